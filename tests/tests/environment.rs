//! Every environment variable is declared once (`messaging_backends::environment`): the
//! code reads none that is not declared and reads them only through that module, and the
//! README's configuration tables are the declaration's.

use std::path::{Path, PathBuf};

use integration_tests::services::repo_root;
use messaging_backends::environment::{Reader, VARIABLES, markdown_table};

fn rust_files(dir: &Path, out: &mut Vec<PathBuf>) {
    let Ok(entries) = std::fs::read_dir(dir) else { return };
    for entry in entries.flatten() {
        let path = entry.path();
        let name = entry.file_name().to_string_lossy().into_owned();
        if path.is_dir() {
            if !["target", "node_modules", ".build-inputs"].contains(&name.as_str()) {
                rust_files(&path, out);
            }
        } else if name.ends_with(".rs") {
            out.push(path);
        }
    }
}

fn sources() -> Vec<(String, String)> {
    let root = repo_root();
    let mut files = Vec::new();
    for dir in ["shared", "functions", "local-gateway", "bench/src", "tests"] {
        rust_files(&root.join(dir), &mut files);
    }
    assert!(files.len() > 50, "found the sources: {}", files.len());
    files
        .into_iter()
        .map(|p| {
            let text = std::fs::read_to_string(&p).unwrap();
            (p.strip_prefix(&root).unwrap().display().to_string(), text)
        })
        .collect()
}

#[test]
fn the_environment_is_read_only_through_its_declaration() {
    let declaration = "shared/backends/src/environment.rs";
    let this_file = "tests/tests/environment.rs";
    for (path, text) in sources() {
        if path == declaration || path == this_file {
            continue;
        }
        for needle in ["env::var(", "env::var_os(", "env::vars(", "env::vars_os("] {
            assert!(
                !text.contains(needle),
                "{path} reads the environment with {needle}: use messaging_backends::environment::get"
            );
        }
    }
}

/// String literals that name a variable in the code that reads variables.
fn variable_names_in(text: &str) -> Vec<String> {
    let mut names = Vec::new();
    let mut rest = text;
    while let Some(start) = rest.find('"') {
        let after = &rest[start + 1..];
        let Some(end) = after.find('"') else { break };
        let literal = &after[..end];
        // `env!("CARGO_...")` is the compiler's environment, not the product's.
        let compile_time = rest[..start].ends_with("env!(");
        let looks_like_a_variable = !compile_time
            && literal.len() > 3
            && literal.contains('_')
            && literal.starts_with(|c: char| c.is_ascii_uppercase())
            && literal
                .chars()
                .all(|c| c.is_ascii_uppercase() || c.is_ascii_digit() || c == '_');
        if looks_like_a_variable {
            names.push(literal.to_owned());
        }
        rest = &after[end + 1..];
    }
    names
}

#[test]
fn every_variable_the_code_names_is_declared() {
    // The code that looks variables up (directly, or through a lookup it is given).
    let readers = [
        "shared/backends/src/choice.rs",
        "shared/backends/src/lib.rs",
        "shared/redis/src/lib.rs",
        "shared/auth/src/lib.rs",
        "shared/http-api/src/lib.rs",
        "local-gateway/src/config.rs",
        "bench/src/main.rs",
        "tests/src/services.rs",
    ];
    let mut seen = 0;
    for path in readers {
        let text = std::fs::read_to_string(repo_root().join(path)).unwrap();
        for name in variable_names_in(&text) {
            seen += 1;
            assert!(
                VARIABLES.iter().any(|v| v.name == name),
                "{path} reads {name}, which messaging_backends::environment does not declare"
            );
        }
    }
    assert!(seen > 30, "found the variable names: {seen}");
}

/// The README section between `<!-- environment:KIND -->` and `<!-- /environment -->`.
fn section(readme: &str, kind: &str) -> Option<(usize, usize)> {
    let open = format!("<!-- environment:{kind} -->\n");
    let start = readme.find(&open)? + open.len();
    let end = start + readme[start..].find("<!-- /environment -->")?;
    Some((start, end))
}

#[test]
fn the_readme_configuration_tables_are_the_declarations() {
    let path = repo_root().join("README.md");
    let mut readme = std::fs::read_to_string(&path).unwrap();
    let write = messaging_backends::environment::get("WRITE_DOCS").as_deref() == Some("1");
    for (kind, reader) in [
        ("functions", Reader::Functions),
        ("rest-functions", Reader::RestFunctions),
        ("gateway", Reader::Gateway),
        ("tests", Reader::Tests),
    ] {
        let (start, end) = section(&readme, kind).unwrap_or_else(|| panic!("README.md has no {kind} table"));
        let expected = markdown_table(reader);
        if write {
            readme.replace_range(start..end, &expected);
        } else {
            assert_eq!(
                &readme[start..end],
                expected,
                "README.md's {kind} table is not the declaration's: run `WRITE_DOCS=1 cargo test --test environment`"
            );
        }
    }
    if write {
        std::fs::write(&path, readme).unwrap();
    }
}
