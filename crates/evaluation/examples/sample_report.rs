//! Writes a run report for synthetic predictions to a directory, to look at the layout:
//! `cargo run -p evaluation --example sample_report -- /tmp/report`.
//!
//! The data is made up: a few ASJC general fields with a seeded pseudo-random model whose
//! accuracy differs by label, two test sets, slices by decade, unseen and invalid gold labels.

use std::collections::BTreeMap;
use std::path::PathBuf;

use evaluation::report::{
    render_html, render_markdown, render_svgs, ChampionComparison, InfoSection, RunReport,
};
use evaluation::{evaluate_with, gate, Evaluation, EvaluationInput, EvaluationOptions, GateConfig};

const FIELDS: &[(&str, &str)] = &[
    ("2700", "Medicine"),
    ("1300", "Biochemistry, Genetics and Molecular Biology"),
    ("2200", "Engineering"),
    ("1700", "Computer Science"),
    ("3300", "Social Sciences"),
    ("1600", "Chemistry"),
    ("3100", "Physics and Astronomy"),
    (
        "2739",
        "Public Health, Environmental and Occupational Health",
    ),
    ("1100", "Agricultural and Biological Sciences"),
    ("2600", "Mathematics"),
    ("1200", "Arts and Humanities"),
    ("2300", "Environmental Science"),
    ("2500", "Materials Science"),
    ("3600", "Health Professions"),
    ("1800", "Decision Sciences <&> \"quoted\""),
];

/// A small linear congruential generator, so the sample is the same on every run.
struct Random(u64);

impl Random {
    fn next(&mut self) -> f32 {
        self.0 = self
            .0
            .wrapping_mul(6364136223846793005)
            .wrapping_add(1442695040888963407);
        ((self.0 >> 40) as f32) / ((1u64 << 24) as f32)
    }
}

fn synthetic_evaluation(seed: u64, works: usize, skill: f32) -> Evaluation {
    let mut random = Random(seed);
    let labels: Vec<String> = FIELDS.iter().map(|(code, _)| code.to_string()).collect();
    let (mut gold, mut predicted, mut scores, mut slices, mut ids) =
        (Vec::new(), Vec::new(), Vec::new(), Vec::new(), Vec::new());
    for work in 0..works {
        // Frequent labels first: label i is gold with probability falling with i.
        let mut work_gold: Vec<String> = Vec::new();
        for (index, label) in labels.iter().enumerate() {
            if random.next() < 0.45 / (1.0 + index as f32 * 0.5) {
                work_gold.push(label.clone());
            }
        }
        if work % 37 == 5 {
            work_gold.push("3616".to_string());
        }
        if work % 53 == 7 {
            work_gold.push("Ecology".to_string());
        }
        let row: Vec<f32> = labels
            .iter()
            .enumerate()
            .map(|(index, label)| {
                let signal = if work_gold.contains(label) {
                    skill - index as f32 * 0.02
                } else {
                    0.0
                };
                (signal + random.next() * 0.6).clamp(0.0, 1.0)
            })
            .collect();
        let work_predicted: Vec<String> = labels
            .iter()
            .zip(&row)
            .filter(|(_, &s)| s >= 0.5)
            .map(|(l, _)| l.clone())
            .collect();
        let decade = ["1990s", "2000s", "2010s", "2020s"][work % 4];
        let kind = if work % 5 == 0 {
            "book-chapter"
        } else {
            "journal-article"
        };
        gold.push(work_gold);
        predicted.push(work_predicted);
        scores.push(row);
        slices.push(vec![
            ("decade".to_string(), decade.to_string()),
            ("type".to_string(), kind.to_string()),
        ]);
        ids.push(format!("10.5555/sample-{seed}-{work}"));
    }
    let input = EvaluationInput {
        label_set: &labels,
        gold: &gold,
        predicted: &predicted,
        scores: Some(&scores),
        slices: Some(&slices),
        ids: &ids,
    };
    let is_code = |entry: &str| entry.len() == 4 && entry.bytes().all(|b| b.is_ascii_digit());
    let options = EvaluationOptions {
        is_valid_gold: Some(&is_code),
        ..EvaluationOptions::default()
    };
    evaluate_with(&input, &options).expect("synthetic input is well-formed")
}

fn main() -> std::io::Result<()> {
    let directory = PathBuf::from(
        std::env::args()
            .nth(1)
            .unwrap_or_else(|| "/tmp/report".into()),
    );
    std::fs::create_dir_all(&directory)?;

    let candidate: BTreeMap<String, Evaluation> = [
        ("test".to_string(), synthetic_evaluation(1, 400, 0.45)),
        (
            "heldout_venues".to_string(),
            synthetic_evaluation(2, 150, 0.3),
        ),
    ]
    .into();
    let champion: BTreeMap<String, Evaluation> = [
        ("test".to_string(), synthetic_evaluation(3, 400, 0.4)),
        (
            "heldout_venues".to_string(),
            synthetic_evaluation(4, 150, 0.32),
        ),
    ]
    .into();
    let decision = gate(&candidate, Some(&champion), &GateConfig::default());

    let report = RunReport {
        title: "Training run 20240611-1 <sample>".to_string(),
        run_info: vec![
            InfoSection {
                title: "Run".to_string(),
                entries: vec![
                    ("Run id".into(), "20240611-1".into()),
                    (
                        "Model".into(),
                        "linear, 2^18 hashed features, threshold 0.5".into(),
                    ),
                ],
            },
            InfoSection {
                title: "Data".to_string(),
                entries: vec![
                    ("Training works".into(), "21,480".into()),
                    ("Test works".into(), "550".into()),
                ],
            },
        ],
        evaluations: candidate,
        gate: Some(decision),
        champion: Some(ChampionComparison {
            name: "topics v3".to_string(),
            evaluations: champion,
        }),
        label_names: FIELDS
            .iter()
            .map(|(code, name)| (code.to_string(), format!("{code} {name}")))
            .collect(),
    };

    std::fs::write(directory.join("report.md"), render_markdown(&report))?;
    std::fs::write(directory.join("report.html"), render_html(&report))?;
    for (file_name, svg) in render_svgs(&report) {
        std::fs::write(directory.join(file_name), svg)?;
    }
    println!("wrote {}", directory.display());
    Ok(())
}
