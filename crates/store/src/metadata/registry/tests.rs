use super::*;
use crate::metadata::runs::tests::new_run;

fn model_file(byte: u8) -> NamedArtifact {
    let bytes = [byte; 8];
    NamedArtifact::stored(
        "model.safetensors",
        ArtifactRef {
            hash: blake3::hash(&bytes).to_hex().to_string(),
            size_bytes: 8,
        },
        "application/safetensors",
    )
}

fn new_version(model: &str, byte: u8, run_id: Option<&str>) -> NewModelVersion {
    NewModelVersion {
        model: model.to_string(),
        artifact: model_file(byte),
        run_id: run_id.map(str::to_string),
        metadata: serde_json::json!({"labels": 27}),
        metrics: BTreeMap::from([("f1_micro".to_string(), 0.61)]),
        built_from: Vec::new(),
    }
}

/// Registers `count` versions of `asjc-classifier` and returns the store.
fn store_with_versions(count: u8) -> MetadataStore {
    let store = MetadataStore::open_in_memory().unwrap();
    for byte in 1..=count {
        store
            .register_version(&new_version("asjc-classifier", byte, None))
            .unwrap();
    }
    store
}

#[test]
fn versions_number_from_one_per_model() {
    let store = MetadataStore::open_in_memory().unwrap();

    let first = store
        .register_version(&new_version("asjc-classifier", 1, None))
        .unwrap();
    let second = store
        .register_version(&new_version("asjc-classifier", 2, None))
        .unwrap();
    let other = store
        .register_version(&new_version("field-classifier", 3, None))
        .unwrap();

    assert_eq!((first, second, other), (1, 2, 1));
    assert_eq!(
        store.list_models().unwrap(),
        vec!["asjc-classifier", "field-classifier"]
    );
    let versions: Vec<u32> = store
        .list_versions("asjc-classifier")
        .unwrap()
        .iter()
        .map(|v| v.version)
        .collect();
    assert_eq!(versions, vec![1, 2]);
}

#[test]
fn registered_version_reads_back() {
    let store = MetadataStore::open_in_memory().unwrap();
    let run = store.create_run(&new_run("train")).unwrap();

    store
        .register_version(&new_version("asjc-classifier", 1, Some(&run.id)))
        .unwrap();

    let version = store.model_version("asjc-classifier", 1).unwrap();
    assert_eq!(version.artifact, model_file(1).artifact);
    assert_eq!(version.run_id.as_deref(), Some(run.id.as_str()));
    assert_eq!(version.status, VersionStatus::Registered);
    assert_eq!(version.metadata, serde_json::json!({"labels": 27}));
    assert_eq!(version.metrics["f1_micro"], 0.61);
    assert_eq!(version.created_by, ids::current_user());
    assert!(version.aliases.is_empty());
}

#[test]
fn threads_register_without_gaps() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("metadata.db");
    drop(MetadataStore::open(&path).unwrap());

    let mut versions: Vec<u32> = std::thread::scope(|scope| {
        let handles: Vec<_> = (0..6u8)
            .map(|index| {
                let path = path.clone();
                scope.spawn(move || {
                    let store = MetadataStore::open(&path).unwrap();
                    store
                        .register_version(&new_version("asjc-classifier", index, None))
                        .unwrap()
                })
            })
            .collect();
        handles.into_iter().map(|h| h.join().unwrap()).collect()
    });
    versions.sort_unstable();

    assert_eq!(versions, vec![1, 2, 3, 4, 5, 6]);
}

#[test]
fn same_file_resolves_to_existing_version() {
    let store = MetadataStore::open_in_memory().unwrap();
    let register = |model: &str, byte: u8| {
        store
            .find_or_register_version(&new_version(model, byte, None))
            .unwrap()
    };

    let first = register("asjc-classifier", 1);
    let second = register("asjc-classifier", 2);
    let again = register("asjc-classifier", 1);
    let other_model = register("field-classifier", 1);

    assert_eq!((first.version, first.created), (1, true));
    assert_eq!((second.version, second.created), (2, true));
    assert_eq!((again.version, again.created), (1, false));
    assert_eq!((other_model.version, other_model.created), (1, true));
    assert_eq!(store.list_versions("asjc-classifier").unwrap().len(), 2);
}

#[test]
fn threads_registering_one_file_share_a_version() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("metadata.db");
    drop(MetadataStore::open(&path).unwrap());

    let registrations: Vec<VersionRegistration> = std::thread::scope(|scope| {
        let handles: Vec<_> = (0..6)
            .map(|_| {
                let path = path.clone();
                scope.spawn(move || {
                    let store = MetadataStore::open(&path).unwrap();
                    store
                        .find_or_register_version(&new_version("asjc-classifier", 1, None))
                        .unwrap()
                })
            })
            .collect();
        handles.into_iter().map(|h| h.join().unwrap()).collect()
    });

    assert!(
        registrations.iter().all(|r| r.version == 1),
        "{registrations:?}"
    );
    assert_eq!(
        registrations.iter().filter(|r| r.created).count(),
        1,
        "{registrations:?}"
    );
    let store = MetadataStore::open(&path).unwrap();
    assert_eq!(store.list_versions("asjc-classifier").unwrap().len(), 1);
}

#[test]
fn unknown_run_blocks_registration() {
    let store = MetadataStore::open_in_memory().unwrap();

    let error = store
        .register_version(&new_version("asjc-classifier", 1, Some("missing")))
        .unwrap_err();

    assert!(matches!(error, StoreError::RunNotFound { .. }));
    assert!(matches!(
        store.list_versions("asjc-classifier"),
        Err(StoreError::ModelNotFound { .. })
    ));
}

#[test]
fn unrecorded_dependency_blocks_registration() {
    let store = MetadataStore::open_in_memory().unwrap();
    let mut version = new_version("asjc-classifier", 1, None);
    version.built_from.push(model_file(7).artifact.hash);

    let error = store.register_version(&version).unwrap_err();

    assert!(
        matches!(error, StoreError::ArtifactNotRecorded { hash } if hash == model_file(7).artifact.hash)
    );
}

#[test]
fn resolve_accepts_alias_or_number() {
    let store = store_with_versions(3);
    store
        .set_alias("asjc-classifier", "production", 2, "alice", "first release")
        .unwrap();

    assert_eq!(
        store
            .resolve("asjc-classifier", "production")
            .unwrap()
            .version,
        2
    );
    assert_eq!(store.resolve("asjc-classifier", "3").unwrap().version, 3);
    assert_eq!(
        store.resolve("asjc-classifier", "2").unwrap().aliases,
        vec!["production"]
    );
    assert!(matches!(
        store.resolve("asjc-classifier", "staging"),
        Err(StoreError::AliasNotFound { .. })
    ));
    assert!(matches!(
        store.resolve("asjc-classifier", "9"),
        Err(StoreError::VersionNotFound { version: 9, .. })
    ));
    assert!(matches!(
        store.resolve("other-model", "1"),
        Err(StoreError::ModelNotFound { .. })
    ));
}

#[test]
fn rollback_writes_audit_trail() {
    let store = store_with_versions(3);
    store
        .set_alias("asjc-classifier", "production", 1, "alice", "first release")
        .unwrap();
    store
        .promote("asjc-classifier", "production", 3, "ci", "f1 0.64 > 0.61")
        .unwrap();

    let moved = store
        .rollback("asjc-classifier", "production", "bob", "latency regression")
        .unwrap();

    assert_eq!(
        moved,
        AliasMove {
            from_version: Some(3),
            to_version: Some(1),
            changed: true
        }
    );
    assert_eq!(
        store
            .resolve("asjc-classifier", "production")
            .unwrap()
            .version,
        1
    );
    let history = store
        .alias_history("asjc-classifier", Some("production"))
        .unwrap();
    type Row<'a> = (AliasAction, Option<u32>, Option<u32>, &'a str, &'a str);
    let trail: Vec<Row> = history
        .iter()
        .map(|e| {
            (
                e.action,
                e.from_version,
                e.to_version,
                e.actor.as_str(),
                e.reason.as_str(),
            )
        })
        .collect();
    assert_eq!(
        trail,
        vec![
            (AliasAction::Set, None, Some(1), "alice", "first release"),
            (
                AliasAction::Promote,
                Some(1),
                Some(3),
                "ci",
                "f1 0.64 > 0.61"
            ),
            (
                AliasAction::Rollback,
                Some(3),
                Some(1),
                "bob",
                "latency regression"
            ),
        ]
    );
}

#[test]
fn second_rollback_undoes_first() {
    let store = store_with_versions(2);
    store
        .set_alias("asjc-classifier", "production", 1, "alice", "release")
        .unwrap();
    store
        .promote("asjc-classifier", "production", 2, "alice", "better")
        .unwrap();
    store
        .rollback("asjc-classifier", "production", "bob", "bad")
        .unwrap();

    let moved = store
        .rollback("asjc-classifier", "production", "bob", "was fine")
        .unwrap();

    assert_eq!(moved.to_version, Some(2));
}

#[test]
fn rollback_of_new_alias_fails() {
    let store = store_with_versions(2);
    store
        .set_alias("asjc-classifier", "production", 2, "alice", "release")
        .unwrap();

    let error = store
        .rollback("asjc-classifier", "production", "bob", "oops")
        .unwrap_err();

    assert!(matches!(error, StoreError::NoPreviousVersion { .. }));
    assert_eq!(
        store.alias_history("asjc-classifier", None).unwrap().len(),
        1
    );
    assert_eq!(
        store
            .resolve("asjc-classifier", "production")
            .unwrap()
            .version,
        2
    );
}

#[test]
fn rollback_of_unknown_alias_fails() {
    let store = store_with_versions(1);

    let error = store
        .rollback("asjc-classifier", "production", "bob", "oops")
        .unwrap_err();

    assert!(matches!(error, StoreError::NoPreviousVersion { .. }));
}

#[test]
fn unchanged_alias_writes_no_event() {
    let store = store_with_versions(1);
    store
        .set_alias("asjc-classifier", "production", 1, "alice", "release")
        .unwrap();
    let token = store.alias_change_token("asjc-classifier").unwrap();

    let moved = store
        .promote("asjc-classifier", "production", 1, "alice", "again")
        .unwrap();

    assert!(!moved.changed);
    assert_eq!(store.alias_change_token("asjc-classifier").unwrap(), token);
}

#[test]
fn change_token_moves_with_aliases() {
    let store = store_with_versions(2);
    let before = store.alias_change_token("asjc-classifier").unwrap();

    store
        .set_alias("asjc-classifier", "production", 1, "alice", "release")
        .unwrap();
    let after_set = store.alias_change_token("asjc-classifier").unwrap();
    store
        .delete_alias("asjc-classifier", "production", "alice", "retire")
        .unwrap();
    let after_delete = store.alias_change_token("asjc-classifier").unwrap();

    assert_eq!(before, 0);
    assert!(after_set > before);
    assert!(after_delete > after_set);
    assert!(store.aliases("asjc-classifier").unwrap().is_empty());
}

#[test]
fn alias_to_missing_version_fails() {
    let store = store_with_versions(1);

    let error = store
        .set_alias("asjc-classifier", "production", 5, "alice", "typo")
        .unwrap_err();

    assert!(matches!(
        error,
        StoreError::VersionNotFound { version: 5, .. }
    ));
    assert!(store
        .alias_history("asjc-classifier", None)
        .unwrap()
        .is_empty());
}

#[test]
fn numeric_alias_is_rejected() {
    let store = store_with_versions(1);

    let error = store
        .set_alias("asjc-classifier", "2", 1, "alice", "")
        .unwrap_err();

    assert!(matches!(
        error,
        StoreError::InvalidName { kind: "alias", .. }
    ));
}

#[test]
fn archived_version_takes_no_alias() {
    let store = store_with_versions(2);
    store
        .set_alias("asjc-classifier", "production", 2, "alice", "release")
        .unwrap();

    let in_use = store
        .set_version_status("asjc-classifier", 2, VersionStatus::Archived)
        .unwrap_err();
    store
        .set_version_status("asjc-classifier", 1, VersionStatus::Archived)
        .unwrap();
    let archived = store
        .set_alias("asjc-classifier", "staging", 1, "alice", "test")
        .unwrap_err();

    assert!(
        matches!(in_use, StoreError::VersionInUse { ref aliases, .. } if aliases == "production")
    );
    assert!(matches!(
        archived,
        StoreError::VersionArchived { version: 1, .. }
    ));
    assert_eq!(
        store.model_version("asjc-classifier", 1).unwrap().status,
        VersionStatus::Archived
    );
}
