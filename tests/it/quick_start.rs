//! The README's quick start, run as written against the real `ledger serve`: every `sh`
//! block of that section runs in bash, and its output must be the block that follows it.
//! A line of the expected output ending in `…` stands for any text after it.

use std::process::Command;

use crate::binary::{Server, LEDGER};
use crate::common::{fresh_database, ADMIN_KEY};

const README: &str = include_str!("../../README.md");
const SECTION: &str = "## Quick start";

/// The section's (script, expected output) pairs.
fn quick_start_steps() -> Vec<(String, String)> {
    let start = README.find(SECTION).expect("the README has a quick start");
    let section = &README[start + SECTION.len()..];
    let section = &section[..section.find("\n## ").unwrap_or(section.len())];
    let mut blocks = Vec::new();
    let mut lines = section.lines();
    while let Some(line) = lines.next() {
        let Some(language) = line.strip_prefix("```") else { continue };
        let body: Vec<&str> = lines.by_ref().take_while(|line| !line.starts_with("```")).collect();
        blocks.push((language.to_string(), body.join("\n")));
    }
    let mut steps = Vec::new();
    for pair in blocks.windows(2) {
        let [(language, script), (output_language, output)] = pair else { continue };
        if language == "sh" && (output_language == "json" || output_language == "text") {
            steps.push((script.clone(), output.clone()));
        }
    }
    steps
}

fn assert_output_matches(script: &str, expected: &str, actual: &str) {
    let expected: Vec<&str> = expected.lines().collect();
    let actual: Vec<&str> = actual.lines().collect();
    assert_eq!(actual.len(), expected.len(), "line count of\n{script}\nprinted:\n{}", actual.join("\n"));
    for (expected, actual) in expected.iter().zip(&actual) {
        if let Some(prefix) = expected.strip_suffix('…') {
            assert!(actual.starts_with(prefix), "{script}\nprinted {actual:?}, expected it to start with {prefix:?}");
            continue;
        }
        match (serde_json::from_str::<serde_json::Value>(expected), serde_json::from_str::<serde_json::Value>(actual)) {
            (Ok(expected), Ok(actual)) => assert_eq!(actual, expected, "{script}"),
            _ => assert_eq!(actual.trim_end(), expected.trim_end(), "{script}"),
        }
    }
}

#[tokio::test]
async fn the_readme_quick_start_prints_what_the_readme_says() {
    let steps = quick_start_steps();
    assert!(steps.len() >= 6, "the quick start lost its steps: {steps:?}");
    let database = fresh_database().await;
    let url = database.url();
    let server = Server::start(&[], &[("DATABASE_URL", &url)]);
    let bin_dir = std::path::Path::new(LEDGER).parent().expect("the binary's directory").to_path_buf();
    let path = format!("{}:{}", bin_dir.display(), std::env::var("PATH").unwrap_or_default());
    for (script, expected) in steps {
        let output = Command::new("bash")
            .args(["-c", &script])
            .env("LEDGER", &server.base_url)
            .env("KEY", ADMIN_KEY)
            .env("PATH", &path)
            .env("DATABASE_URL", &url)
            .env("RUST_LOG", "warn")
            .output()
            .expect("bash runs");
        assert_output_matches(&script, &expected, &String::from_utf8_lossy(&output.stdout));
    }
}
