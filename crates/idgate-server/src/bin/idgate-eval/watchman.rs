//! moov-io/watchman's name-matching expectations (`watchman_name_matching_cases.json` in the
//! shared test data) beside idgate's name score, for `idgate-eval screening`: watchman's own
//! best-pairs Jaro-Winkler carries its own penalties (length differences, a phonetic
//! filter on first letters, unmatched listed words), so its values are a second opinion,
//! not a target; what is reported is how often the two agree within the case's tolerance,
//! how far apart they are, whether they order the cases alike (Spearman), and whether
//! idgate's threshold decides watchman's should-match cases the same way (each entity by
//! every name it has, as idgate screens).

use std::path::Path;

use anyhow::Context;
use idgate_screen::{fold, score};
use serde_json::{json, Value};

/// Ranks of `v` (ties share their mean rank).
fn ranks(v: &[f64]) -> Vec<f64> {
    let mut order: Vec<usize> = (0..v.len()).collect();
    order.sort_by(|&a, &b| v[a].total_cmp(&v[b]));
    let mut out = vec![0.0; v.len()];
    let mut i = 0;
    while i < order.len() {
        let mut j = i;
        while j + 1 < order.len() && v[order[j + 1]] == v[order[i]] {
            j += 1;
        }
        for &o in &order[i..=j] {
            out[o] = (i + j) as f64 / 2.0;
        }
        i = j + 1;
    }
    out
}

fn pearson(a: &[f64], b: &[f64]) -> f64 {
    let n = a.len() as f64;
    let (ma, mb) = (a.iter().sum::<f64>() / n, b.iter().sum::<f64>() / n);
    let cov: f64 = a.iter().zip(b).map(|(x, y)| (x - ma) * (y - mb)).sum();
    let va: f64 = a.iter().map(|x| (x - ma).powi(2)).sum();
    let vb: f64 = b.iter().map(|y| (y - mb).powi(2)).sum();
    if va == 0.0 || vb == 0.0 {
        return 0.0;
    }
    cov / (va * vb).sqrt()
}

fn name_score(search: &str, indexed: &str) -> f64 {
    score::names(&fold::name_words(search), &fold::name_words(indexed)).score
}

pub fn evaluate(testdata: &Path, threshold: f64) -> anyhow::Result<Value> {
    let path = testdata.join("watchman_sanctions/watchman_name_matching_cases.json");
    let text = std::fs::read_to_string(&path).with_context(|| path.display().to_string())?;
    let cases: Value = serde_json::from_str(&text)?;
    let (mut theirs, mut ours) = (Vec::new(), Vec::new());
    let mut within = 0;
    for c in cases["jaro_winkler_cases"].as_array().into_iter().flatten() {
        let (Some(search), Some(indexed), Some(expected)) = (
            c["search"].as_str(),
            c["indexed"].as_str(),
            c["expected_score"].as_f64(),
        ) else {
            continue;
        };
        let s = name_score(search, indexed);
        if (s - expected).abs() <= c["tolerance"].as_f64().unwrap_or(0.01) + 1e-9 {
            within += 1;
        }
        theirs.push(expected);
        ours.push(s);
    }
    let n = theirs.len();
    let mean_difference = theirs
        .iter()
        .zip(&ours)
        .map(|(a, b)| (a - b).abs())
        .sum::<f64>()
        / n.max(1) as f64;
    let mut agree = 0;
    let mut differ = Vec::new();
    let compare = cases["compare_name_cases"]
        .as_array()
        .cloned()
        .unwrap_or_default();
    for c in &compare {
        let (Some(q), Some(i), Some(should)) = (
            c["query_name"].as_str(),
            c["index_name"].as_str(),
            c["should_match"].as_bool(),
        ) else {
            continue;
        };
        // An entity is screened by every name it has: its alternative and former ones too.
        let s = ["index_alt_names", "index_historical_names"]
            .iter()
            .flat_map(|k| c[*k].as_array().into_iter().flatten())
            .filter_map(Value::as_str)
            .fold(name_score(q, i), |best, n| best.max(name_score(q, n)));
        if (s >= threshold) == should {
            agree += 1;
        } else {
            differ.push(json!({"case": c["name"], "score": (s * 1000.0).round() / 1000.0}));
        }
    }
    Ok(json!({
        "jaro_winkler_cases": n,
        "within_tolerance": within,
        "mean_abs_difference": (mean_difference * 1000.0).round() / 1000.0,
        "spearman": (pearson(&ranks(&theirs), &ranks(&ours)) * 1000.0).round() / 1000.0,
        "compare_name_cases": compare.len(),
        "same_decision_at_threshold": agree,
        "different_decisions": differ,
    }))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ranks_share_ties_and_correlation_is_one_for_one_order() {
        assert_eq!(ranks(&[0.3, 0.1, 0.3]), [1.5, 0.0, 1.5]);
        assert!((pearson(&[1.0, 2.0, 3.0], &[2.0, 4.0, 7.0]) - 0.99).abs() < 0.01);
        assert_eq!(pearson(&[1.0, 1.0], &[1.0, 2.0]), 0.0);
    }
}
