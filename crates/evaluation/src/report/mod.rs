//! The run report: what one training run measured, rendered as Markdown (with the plots as
//! separate SVG files) and as one self-contained HTML page (plots inlined, no JavaScript, no
//! external assets). All user-supplied text is escaped for the format it goes into.

mod bar_chart;
mod document;
mod escape;
mod heatmap;
mod html;
mod markdown;
mod pr_chart;
mod svg;

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

use crate::{Evaluation, GateDecision};

/// Everything a run report shows.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct RunReport {
    pub title: String,
    /// Run information in display order: run id, parameters, data counts, timings, lineage.
    pub run_info: Vec<InfoSection>,
    /// The candidate's evaluation per test set name.
    pub evaluations: BTreeMap<String, Evaluation>,
    pub gate: Option<GateDecision>,
    pub champion: Option<ChampionComparison>,
    /// Display name per label, such as `2700` to `2700 Medicine`. Labels without an entry
    /// are shown as they are.
    pub label_names: BTreeMap<String, String>,
}

/// A titled group of key/value rows of run information.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct InfoSection {
    pub title: String,
    pub entries: Vec<(String, String)>,
}

/// The current champion's evaluations, to compare the candidate with.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ChampionComparison {
    /// Champion name shown in the report, such as `topics v3 (run 20240611-2)`.
    pub name: String,
    pub evaluations: BTreeMap<String, Evaluation>,
}

impl RunReport {
    /// Returns the display name of `label`.
    pub fn label_name(&self, label: &str) -> String {
        self.label_names
            .get(label)
            .cloned()
            .unwrap_or_else(|| label.to_string())
    }
}

/// One rendered chart.
#[derive(Debug, Clone)]
pub(crate) struct Figure {
    pub file_name: String,
    pub caption: String,
    pub svg: String,
}

/// The charts of one test set.
#[derive(Debug, Clone, Default)]
pub(crate) struct TestSetFigures {
    pub per_label_f1: Option<Figure>,
    pub co_occurrence: Option<Figure>,
}

/// All charts of a report, by where they appear.
#[derive(Debug, Clone, Default)]
pub(crate) struct Figures {
    pub pr_curve: Option<Figure>,
    pub test_sets: BTreeMap<String, TestSetFigures>,
}

/// Renders every chart of the report.
pub(crate) fn figures(report: &RunReport) -> Figures {
    let label_name = |label: &str| report.label_name(label);
    let mut figures = Figures {
        pr_curve: pr_chart::pr_curve_svg(report.evaluations.iter()).map(|svg| Figure {
            file_name: "pr-curve.svg".to_string(),
            caption: "Micro-averaged precision-recall curve per test set".to_string(),
            svg,
        }),
        test_sets: BTreeMap::new(),
    };

    let slugs = unique_slugs(report.evaluations.keys());
    for ((test_set, evaluation), slug) in report.evaluations.iter().zip(slugs) {
        let per_label_f1 =
            bar_chart::per_label_f1_svg(test_set, &evaluation.per_label, &label_name).map(|svg| {
                Figure {
                    file_name: format!("per-label-f1-{slug}.svg"),
                    caption: format!("Per-label F1 on {test_set}"),
                    svg,
                }
            });
        let stem = format!("co-occurrence-{slug}");
        let co_occurrence =
            heatmap::co_occurrence_svg(&stem, test_set, &evaluation.co_occurrence, &label_name)
                .map(|svg| Figure {
                    file_name: format!("{stem}.svg"),
                    caption: format!("Gold against predicted labels on {test_set}"),
                    svg,
                });
        figures.test_sets.insert(
            test_set.clone(),
            TestSetFigures {
                per_label_f1,
                co_occurrence,
            },
        );
    }
    figures
}

/// Gives each test set a distinct file-name part, adding `-2`, `-3`, ... on collisions.
fn unique_slugs<'a>(names: impl Iterator<Item = &'a String>) -> Vec<String> {
    let mut used: Vec<String> = Vec::new();
    for name in names {
        let base = escape::file_slug(name);
        let mut slug = base.clone();
        let mut suffix = 2;
        while used.contains(&slug) {
            slug = format!("{base}-{suffix}");
            suffix += 1;
        }
        used.push(slug);
    }
    used
}

/// Renders the report's charts as (file name, SVG document) pairs, the files that
/// [`render_markdown`]'s image links point to.
pub fn render_svgs(report: &RunReport) -> Vec<(String, String)> {
    let figures = figures(report);
    let per_test_set = figures
        .test_sets
        .into_values()
        .flat_map(|set| [set.per_label_f1, set.co_occurrence]);
    figures
        .pr_curve
        .into_iter()
        .chain(per_test_set.flatten())
        .map(|figure| (figure.file_name, figure.svg))
        .collect()
}

/// Renders the report as Markdown whose images link to the files of [`render_svgs`],
/// expected in the same directory.
pub fn render_markdown(report: &RunReport) -> String {
    let figures = figures(report);
    markdown::render(&document::build(report, &figures))
}

/// Renders the report as one self-contained HTML page with the charts inlined.
pub fn render_html(report: &RunReport) -> String {
    let figures = figures(report);
    html::render(&report.title, &document::build(report, &figures), &figures)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn unique_slugs_resolve_collisions() {
        let names = ["a b".to_string(), "a-b".to_string(), "a/b".to_string()];

        assert_eq!(unique_slugs(names.iter()), vec!["a-b", "a-b-2", "a-b-3"]);
    }
}
