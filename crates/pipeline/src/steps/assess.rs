//! The `evaluate`, `gate` and `report` steps: metrics of the candidate on the test split and
//! the held-out venues, the quality gate against the current champion re-evaluated on the
//! same works, and the HTML and Markdown run report.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};
use store::{NamedArtifact, StoreError};

use corpus::Work;
use evaluation::{Evaluation, EvaluationInput, EvaluationOptions, GateDecision};

use super::prepare::{load_split, select, ValidationReport};
use super::{Context, StepName, Upstream};
use crate::engine::{StepOutcome, StepSpec};
use crate::error::PipelineError;
use crate::split::Split;

const EVALUATE: StepSpec = StepSpec { name: "evaluate", version: 2 };
const GATE: StepSpec = StepSpec { name: "gate", version: 1 };
const REPORT: StepSpec = StepSpec { name: "report", version: 1 };

/// The test sets every model is evaluated on.
pub const TEST_SETS: [Split; 2] = [Split::Test, Split::HeldoutVenues];

/// The gate's decision with the champion it was compared with.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct StoredDecision {
    pub decision: GateDecision,
    pub champion_version: Option<u32>,
    pub champion_evaluations: Option<BTreeMap<String, Evaluation>>,
}

fn decade_of(work: &Work) -> String {
    match work.year {
        Some(year) => format!("{}s", year.div_euclid(10) * 10),
        None => "unknown".to_string(),
    }
}

/// Evaluates a classifier on the given works and returns the metrics.
pub fn evaluate_works(
    classifier: &model::Classifier,
    works: &[Work],
    gold: &[Vec<String>],
    is_valid_gold: Option<&dyn Fn(&str) -> bool>,
) -> Result<Evaluation, PipelineError> {
    let predictions = classifier.predict_batch(works);
    let predicted: Vec<Vec<String>> =
        predictions.iter().map(|p| p.labels.iter().map(|l| l.code.clone()).collect()).collect();
    let scores: Vec<Vec<f32>> = predictions.into_iter().map(|p| p.scores).collect();
    let slices: Vec<Vec<(String, String)>> = works
        .iter()
        .map(|work| {
            vec![
                ("type".to_string(), work.work_type.clone().unwrap_or_else(|| "unknown".to_string())),
                ("decade".to_string(), decade_of(work)),
            ]
        })
        .collect();
    let ids: Vec<String> = works.iter().map(|w| w.id.clone()).collect();
    let input = EvaluationInput {
        label_set: classifier.labels(),
        gold,
        predicted: &predicted,
        scores: Some(&scores),
        slices: Some(&slices),
        ids: &ids,
    };
    let options = EvaluationOptions { is_valid_gold, ..EvaluationOptions::default() };
    evaluation::evaluate_with(&input, &options).map_err(|error| PipelineError::Step {
        step: "evaluate",
        message: error.to_string(),
    })
}

/// Builds the monitoring reference profile of the model on the validation split, with its
/// test metrics as the quality baseline, and returns it serialised.
fn reference_profile(
    context: &Context,
    upstream: &Upstream,
    classifier: &model::Classifier,
    test: Option<&Evaluation>,
) -> Result<Vec<u8>, PipelineError> {
    let (works, splits) = load_split(context, upstream)?;
    let (validation_works, _) = select(&works, &splits.rows(Split::Validation));
    let predictions: Vec<Option<monitoring::PredictionRecord>> = classifier
        .predict_batch(&validation_works)
        .into_iter()
        .map(|prediction| {
            Some(monitoring::PredictionRecord {
                labels: prediction
                    .labels
                    .into_iter()
                    .map(|label| monitoring::LabelScore { code: label.code, score: label.score })
                    .collect(),
                scores: prediction.scores,
            })
        })
        .collect();
    let coverage = monitoring::VocabularyCoverage::from_vocabulary(
        classifier.featurizer().vocabulary().iter().map(String::as_str),
    );
    let baseline = test.map(|evaluation| monitoring::QualityBaseline {
        micro_f1: evaluation.metric("micro_f1"),
        macro_f1: evaluation.metric("macro_f1"),
    });
    let profile = monitoring::ReferenceProfile::build(
        &validation_works,
        &predictions,
        |work| coverage.coverage(work),
        classifier.labels(),
        baseline,
    )
    .map_err(|error| PipelineError::Step { step: "evaluate", message: error.to_string() })?;
    profile.to_bytes().map_err(|error| PipelineError::Step { step: "evaluate", message: error.to_string() })
}

/// Evaluates a classifier on every non-empty test set of the run's split.
fn evaluate_test_sets(
    context: &Context,
    upstream: &Upstream,
    classifier: &model::Classifier,
) -> Result<BTreeMap<String, Evaluation>, PipelineError> {
    let (works, splits) = load_split(context, upstream)?;
    let taxonomy = super::ingest::taxonomy(&context.config.data)?;
    let asjc_labels = works.iter().flat_map(|w| &w.labels).all(|l| taxonomy.level_of(&l.code).is_some());
    let is_known_code = |code: &str| taxonomy.level_of(code).is_some();
    let is_valid_gold: Option<&dyn Fn(&str) -> bool> = if asjc_labels { Some(&is_known_code) } else { None };

    let mut evaluations = BTreeMap::new();
    for split in TEST_SETS {
        let rows = splits.rows(split);
        if rows.is_empty() {
            tracing::warn!(test_set = split.name(), "test set is empty; not evaluated");
            continue;
        }
        let (test_works, gold) = select(&works, &rows);
        evaluations.insert(split.name().to_string(), evaluate_works(classifier, &test_works, &gold, is_valid_gold)?);
    }
    Ok(evaluations)
}

pub fn evaluate(context: &Context, upstream: &Upstream) -> Result<StepOutcome, PipelineError> {
    let run_id = context.run_id();
    let model_artifact = upstream.get(&run_id, StepName::Train, "model")?.clone();
    let inputs = vec![
        NamedArtifact::stored("dataset", upstream.get(&run_id, StepName::Validate, "dataset")?.clone(), "application/vnd.apache.arrow.file"),
        NamedArtifact::stored("splits", upstream.get(&run_id, StepName::Split, "splits")?.clone(), "application/json"),
        NamedArtifact::stored("model", model_artifact.clone(), "application/vnd.topicops.model+safetensors"),
    ];

    let outcome = context.engine.execute(EVALUATE, &serde_json::json!({}), &inputs, || {
        let classifier = context.model(&model_artifact)?;
        let evaluations = evaluate_test_sets(context, upstream, &classifier)?;
        let profile = reference_profile(context, upstream, &classifier, evaluations.get(Split::Test.name()))?;
        let profile_artifact = context.engine.stores().artifacts.put_bytes(&profile)?;
        Ok(vec![
            context.put_json("evaluation", &evaluations)?,
            NamedArtifact::stored("profile", profile_artifact, monitoring::PROFILE_MEDIA_TYPE),
        ])
    })?;

    // Metrics are logged on every run, cached or not, so each run record is complete.
    let evaluations: BTreeMap<String, Evaluation> = context.get_json("evaluation", outcome.output("evaluation")?)?;
    let mut points: Vec<(String, f64)> = Vec::new();
    for (test_set, evaluation) in &evaluations {
        for name in evaluation::METRIC_NAMES {
            if let Some(value) = evaluation.metric(name) {
                points.push((format!("{test_set}.{name}"), value));
            }
        }
    }
    let borrowed: Vec<(&str, f64)> = points.iter().map(|(k, v)| (k.as_str(), *v)).collect();
    context.engine.stores().metadata.log_metrics(&run_id, 0, &borrowed)?;
    Ok(outcome)
}

/// The current champion's version and model file, if the model has one.
fn champion(context: &Context) -> Result<Option<store::ModelVersion>, PipelineError> {
    let name = &context.config.registry.model_name;
    match context.engine.stores().metadata.resolve(name, "champion") {
        Ok(version) => Ok(Some(version)),
        Err(StoreError::ModelNotFound { .. } | StoreError::AliasNotFound { .. }) => Ok(None),
        Err(error) => Err(error.into()),
    }
}

pub fn gate(context: &Context, upstream: &Upstream) -> Result<StepOutcome, PipelineError> {
    let run_id = context.run_id();
    let evaluation_artifact = upstream.get(&run_id, StepName::Evaluate, "evaluation")?.clone();
    let champion = champion(context)?;
    let mut inputs = vec![
        NamedArtifact::stored("dataset", upstream.get(&run_id, StepName::Validate, "dataset")?.clone(), "application/vnd.apache.arrow.file"),
        NamedArtifact::stored("splits", upstream.get(&run_id, StepName::Split, "splits")?.clone(), "application/json"),
        NamedArtifact::stored("evaluation", evaluation_artifact.clone(), "application/json"),
    ];
    if let Some(champion) = &champion {
        inputs.push(NamedArtifact::stored("champion_model", champion.artifact.clone(), "application/vnd.topicops.model+safetensors"));
    }
    let params = serde_json::to_value(&context.config.gate).unwrap_or_default();

    context.engine.execute(GATE, &params, &inputs, || {
        let candidate: BTreeMap<String, Evaluation> = context.get_json("evaluation", &evaluation_artifact)?;
        let mut other_labels = None;
        let champion_evaluations = match &champion {
            Some(version) => {
                let classifier = context.model(&version.artifact)?;
                let candidate_model = context.model(upstream.get(&run_id, StepName::Train, "model")?)?;
                if shares_no_label(&classifier, &candidate_model) {
                    other_labels = Some((version.version, classifier.labels().first().cloned().unwrap_or_default()));
                    None
                } else {
                    Some(evaluate_test_sets(context, upstream, &classifier)?)
                }
            }
            None => None,
        };
        let (gate_config, skipped_note) = gate_config_for_data(context, upstream)?;
        let mut decision = evaluation::gate(&candidate, champion_evaluations.as_ref(), &gate_config);
        if let Some(note) = skipped_note {
            decision.summary = format!("{} {note}", decision.summary);
        }
        if let Some((version, example)) = other_labels {
            fail_on_other_labels(&mut decision, version, &example, &context.config.registry.model_name);
        }
        tracing::info!(passed = decision.passed, summary = %decision.summary, "gate decision");
        let stored = StoredDecision {
            decision,
            champion_version: champion.as_ref().map(|v| v.version),
            champion_evaluations,
        };
        Ok(vec![context.put_json("decision", &stored)?])
    })
}

/// Returns the gate settings for this run's data, and a note when a test set was left out.
/// Data without venues (labelled JSON Lines, arXiv) cannot have a held-out venue set, so the
/// gate does not check one there instead of failing on it every time. An empty held-out
/// venue set despite venues in the data is still a failure.
fn gate_config_for_data(context: &Context, upstream: &Upstream) -> Result<(evaluation::GateConfig, Option<String>), PipelineError> {
    let mut config = context.config.gate.clone();
    let heldout = Split::HeldoutVenues.name();
    if !config.test_sets.iter().any(|name| name == heldout) {
        return Ok((config, None));
    }
    let (works, splits) = load_split(context, upstream)?;
    let has_venue = works.iter().any(|work| work.venue.as_deref().is_some_and(|venue| !venue.trim().is_empty()));
    if has_venue || !splits.rows(Split::HeldoutVenues).is_empty() {
        return Ok((config, None));
    }
    config.test_sets.retain(|name| name != heldout);
    let note = format!("`{heldout}` was not checked because no work has a venue to hold out.");
    tracing::info!(test_set = heldout, "no work has a venue; the gate skips the held-out venue set");
    Ok((config, Some(note)))
}

/// True when two models predict disjoint label sets, as models trained at different ASJC
/// levels do. Their scores on one test set cannot be compared.
fn shares_no_label(champion: &model::Classifier, candidate: &model::Classifier) -> bool {
    let candidate_labels: std::collections::BTreeSet<&String> = candidate.labels().iter().collect();
    !champion.labels().iter().any(|label| candidate_labels.contains(label))
}

/// Fails `decision` because the champion predicts other labels than the candidate, so that a
/// model at another level never replaces the champion silently.
fn fail_on_other_labels(decision: &mut evaluation::GateDecision, champion_version: u32, example: &str, model_name: &str) {
    let reason = format!(
        "the champion (version {champion_version}) predicts other labels (such as `{example}`) than this candidate, \
         probably at another ASJC level; register the candidate under its own name with --model-name \
         (registry.model_name, now `{model_name}`) or train at the champion's level"
    );
    decision.checks.push(evaluation::GateCheck {
        test_set: "champion".to_string(),
        metric: "labels".to_string(),
        candidate: None,
        champion: None,
        floor: 0.0,
        tolerance: 0.0,
        passed: false,
        reason,
    });
    decision.passed = false;
    decision.summary = format!("{} The champion predicts other labels, so it cannot be compared or replaced.", decision.summary);
}

pub fn report(context: &Context, upstream: &Upstream) -> Result<StepOutcome, PipelineError> {
    let run_id = context.run_id();
    let names = ["ingest_report", "validation_report", "evaluation", "decision"];
    let sources = [StepName::Ingest, StepName::Validate, StepName::Evaluate, StepName::Gate];
    let mut inputs = Vec::new();
    for (name, step) in names.iter().zip(sources) {
        inputs.push(NamedArtifact::stored(*name, upstream.get(&run_id, step, name)?.clone(), "application/json"));
    }

    context.engine.execute(REPORT, &serde_json::json!({}), &inputs, || {
        let ingest: serde_json::Value = context.get_json("ingest_report", &inputs[0].artifact)?;
        let validation: ValidationReport = context.get_json("validation_report", &inputs[1].artifact)?;
        let evaluations: BTreeMap<String, Evaluation> = context.get_json("evaluation", &inputs[2].artifact)?;
        let decision: StoredDecision = context.get_json("decision", &inputs[3].artifact)?;
        let taxonomy = super::ingest::taxonomy(&context.config.data)?;

        let label_names = validation
            .label_counts
            .keys()
            .filter_map(|code| taxonomy.name(code).map(|name| (code.clone(), format!("{code} {name}"))))
            .collect();
        let mut data_entries = vec![
            ("works read by validate".to_string(), validation.works_read.to_string()),
            ("works kept".to_string(), validation.works_kept.to_string()),
            ("without labels".to_string(), validation.without_labels.to_string()),
            ("without text".to_string(), validation.without_text.to_string()),
            ("labels".to_string(), validation.label_counts.len().to_string()),
        ];
        if let Some(works) = ingest.pointer("/works_kept").and_then(|v| v.as_u64()) {
            data_entries.insert(0, ("works ingested".to_string(), works.to_string()));
        }
        let report = evaluation::report::RunReport {
            title: format!("topicops run {run_id}"),
            run_info: vec![
                evaluation::report::InfoSection {
                    title: "Run".to_string(),
                    entries: vec![
                        ("run".to_string(), run_id.clone()),
                        ("model".to_string(), context.config.registry.model_name.clone()),
                        ("level".to_string(), validation.level.clone()),
                        ("data".to_string(), context.config.data.path.as_ref().map(|p| p.display().to_string()).unwrap_or_default()),
                    ],
                },
                evaluation::report::InfoSection { title: "Data".to_string(), entries: data_entries },
            ],
            evaluations,
            gate: Some(decision.decision.clone()),
            champion: decision.champion_evaluations.map(|evaluations| evaluation::report::ChampionComparison {
                name: format!("champion v{}", decision.champion_version.unwrap_or(0)),
                evaluations,
            }),
            label_names,
        };
        let html = evaluation::report::render_html(&report);
        let markdown = evaluation::report::render_markdown(&report);
        let stores = context.engine.stores();
        let mut outputs = vec![
            NamedArtifact::stored("report/report.html", stores.artifacts.put_bytes(html.as_bytes())?, "text/html"),
            NamedArtifact::stored("report/report.md", stores.artifacts.put_bytes(markdown.as_bytes())?, "text/markdown"),
        ];
        for (file_name, svg) in evaluation::report::render_svgs(&report) {
            // The output name is the file name the Markdown links to.
            let name = format!("report/{file_name}");
            outputs.push(NamedArtifact::stored(name, stores.artifacts.put_bytes(svg.as_bytes())?, "image/svg+xml"));
        }
        Ok(outputs)
    })
}
