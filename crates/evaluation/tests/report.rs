//! The run report: well-formed HTML and SVG, headline numbers as formatted, links between
//! the Markdown and the SVG files, and escaping of user-supplied text.

use std::collections::BTreeMap;

use evaluation::report::{
    render_html, render_markdown, render_svgs, ChampionComparison, InfoSection, RunReport,
};
use evaluation::{evaluate, gate, Evaluation, EvaluationInput, GateConfig};
use quick_xml::events::Event;
use quick_xml::Reader;

const HOSTILE_LABEL: &str = "Decision <&> \"Sciences\"";

fn strings(values: &[&str]) -> Vec<String> {
    values.iter().map(|value| value.to_string()).collect()
}

/// Evaluates the six-work example of `metrics_reference.rs` with one change: w5 also has the
/// gold label `<unseen&>`, outside the label set. Label `B` gets a display name full of markup
/// characters, and w5 a record id with markup characters.
fn example_evaluation() -> Evaluation {
    let labels = strings(&["A", "B", "C", "D", "E"]);
    let gold = vec![
        strings(&["A", "B"]),
        strings(&["B"]),
        strings(&["C"]),
        strings(&["A", "C"]),
        strings(&["B", "D"]),
        strings(&["A", "<unseen&>"]),
    ];
    let predicted = vec![
        strings(&["A"]),
        strings(&["B", "C"]),
        strings(&["A"]),
        strings(&["A", "C"]),
        vec![],
        strings(&["A", "D"]),
    ];
    let scores = vec![
        vec![0.9, 0.5, 0.1, 0.2, 0.0],
        vec![0.2, 0.8, 0.6, 0.1, 0.05],
        vec![0.7, 0.3, 0.5, 0.05, 0.15],
        vec![0.85, 0.1, 0.65, 0.3, 0.0],
        vec![0.3, 0.45, 0.2, 0.35, 0.1],
        vec![0.95, 0.2, 0.1, 0.55, 0.05],
    ];
    let slices: Vec<Vec<(String, String)>> = (0..6)
        .map(|_| vec![("type".to_string(), "journal-article".to_string())])
        .collect();
    let ids = strings(&["w0", "w1", "w2", "w3", "w4", "id<5>&"]);
    let input = EvaluationInput {
        label_set: &labels,
        gold: &gold,
        predicted: &predicted,
        scores: Some(&scores),
        slices: Some(&slices),
        ids: &ids,
    };
    evaluate(&input).unwrap()
}

fn example_report() -> RunReport {
    let evaluations: BTreeMap<String, Evaluation> =
        [("test".to_string(), example_evaluation())].into();
    let config = GateConfig {
        test_sets: vec!["test".into()],
        ..GateConfig::default()
    };
    let decision = gate(&evaluations, None, &config);
    RunReport {
        title: "Run <1> & co".to_string(),
        run_info: vec![InfoSection {
            title: "Parameters".to_string(),
            entries: vec![("threshold".into(), "0.5 <default>".into())],
        }],
        evaluations: evaluations.clone(),
        gate: Some(decision),
        champion: Some(ChampionComparison {
            name: "v1".into(),
            evaluations,
        }),
        label_names: [("B".to_string(), HOSTILE_LABEL.to_string())].into(),
    }
}

/// Parses `document` as XML and returns the concatenated text content; panics on the first
/// syntax error or mismatched end tag.
fn parse_xml(document: &str) -> String {
    let mut reader = Reader::from_str(document);
    let mut text = String::new();
    loop {
        match reader.read_event() {
            Ok(Event::Eof) => break,
            Ok(Event::Text(content)) => text.push_str(&content.unescape().unwrap()),
            Ok(_) => {}
            Err(error) => panic!(
                "invalid XML at byte {}: {error}\n{document}",
                reader.buffer_position()
            ),
        }
    }
    text
}

#[test]
fn html_is_well_formed_xml() {
    let html = render_html(&example_report());

    let text = parse_xml(&html);

    assert!(html.starts_with("<!DOCTYPE html>"));
    assert!(
        text.contains("Run <1> & co"),
        "title text survives escaping"
    );
    assert!(!html.contains("<script"), "no JavaScript");
}

#[test]
fn svgs_are_well_formed_and_inlined() {
    let report = example_report();
    let html = render_html(&report);

    let svgs = render_svgs(&report);

    let names: Vec<&str> = svgs.iter().map(|(name, _)| name.as_str()).collect();
    assert_eq!(
        names,
        vec![
            "pr-curve.svg",
            "per-label-f1-test.svg",
            "co-occurrence-test.svg"
        ]
    );
    for (name, svg) in &svgs {
        assert!(
            svg.starts_with("<svg xmlns=\"http://www.w3.org/2000/svg\""),
            "{name}"
        );
        parse_xml(svg);
        assert!(html.contains(svg.as_str()), "{name} is inlined in the HTML");
    }
}

#[test]
fn markdown_links_every_svg() {
    let report = example_report();

    let markdown = render_markdown(&report);

    for (name, _) in render_svgs(&report) {
        assert!(markdown.contains(&format!("]({name})")), "{name} is linked");
    }
}

#[test]
fn headline_numbers_are_formatted() {
    let report = example_report();

    let markdown = render_markdown(&report);
    let html = render_html(&report);

    // Micro P/R/F1, macro F1, samples F1 and P@1 of the example to four decimals. The unseen
    // gold label of w5 adds one false negative: micro recall 5/10, F1 10/18 = 0.5556; samples
    // F1 drops for w5 from 2/3 to 1/2, (3 - 2/3 + 1/2) / 6 = 0.4722. The best threshold stays
    // 0.35 with 9 of 12 cells gold out of 10 positives: F1 18 / 22 = 0.8182.
    assert!(
        markdown.contains(
            "| test | 6 | 6 | 0.6250 | 0.5000 | 0.5556 | 0.3714 | 0.4722 | 0.8333 | 0.350 (F1 0.8182) |"
        ),
        "{markdown}"
    );
    assert!(html.contains("<td class=\"number\">0.5556</td>"));
    assert!(html.contains("<td class=\"number\">0.8333</td>"));
}

#[test]
fn gate_and_champion_tables_are_rendered() {
    let markdown = render_markdown(&example_report());

    assert!(
        markdown.contains("**Quality gate passed.** All 1 test sets passed the micro_f1 check.")
    );
    assert!(markdown.contains("| test | micro_f1 | 0.5556 | n/a | 0.3000 | 0.0100 | passed |"));
    assert!(markdown.contains("| test | Micro F1 | 0.5556 | 0.5556 | +0.0000 |"));
}

#[test]
fn user_text_is_escaped() {
    let report = example_report();

    let markdown = render_markdown(&report);
    let html = render_html(&report);
    let svgs = render_svgs(&report);

    assert!(html.contains("Decision &lt;&amp;&gt; &quot;Sciences&quot;"));
    assert!(!html.contains(HOSTILE_LABEL));
    assert!(html.contains("id&lt;5&gt;&amp;"), "record ids are escaped");
    assert!(
        html.contains("0.5 &lt;default&gt;"),
        "run information is escaped"
    );
    assert!(markdown.contains("| Decision &lt;&amp;&gt; \"Sciences\" | 3 |"));
    assert!(markdown.contains("| &lt;unseen&amp;&gt; | 1 | id&lt;5&gt;&amp; |"));
    let bar_chart = &svgs[1].1;
    assert!(
        parse_xml(bar_chart).contains(HOSTILE_LABEL),
        "the chart shows the label as given"
    );
}

#[test]
fn report_without_scores_or_gate_renders() {
    let labels = strings(&["A"]);
    let gold = vec![strings(&["A"])];
    let predicted = vec![strings(&["A"])];
    let ids = strings(&["w0"]);
    let input = EvaluationInput {
        label_set: &labels,
        gold: &gold,
        predicted: &predicted,
        scores: None,
        slices: None,
        ids: &ids,
    };
    let report = RunReport {
        title: "Bare".into(),
        evaluations: [("test".to_string(), evaluate(&input).unwrap())].into(),
        ..RunReport::default()
    };

    let markdown = render_markdown(&report);
    let html = render_html(&report);

    assert!(markdown.contains("No test set has scores, so there is no curve."));
    assert!(markdown
        .contains("| test | 1 | 1 | 1.0000 | 1.0000 | 1.0000 | 1.0000 | 1.0000 | n/a | n/a |"));
    parse_xml(&html);
    let names: Vec<String> = render_svgs(&report)
        .into_iter()
        .map(|(name, _)| name)
        .collect();
    assert_eq!(
        names,
        vec!["per-label-f1-test.svg", "co-occurrence-test.svg"]
    );
}
