//! `@pmFromFile FILE…` (alias `@pmf`): `@pm` with one phrase per line, read from the given
//! files (space-separated, relative to the rule file's directory).
//!
//! Lines are taken verbatim (leading spaces included) except a final `\r`; empty or
//! blank lines and lines whose first non-blank byte is `#` are skipped. Remote (`http://`)
//! files are refused: the engine never goes to the network.
//!
//! ```text
//! SecRule REQUEST_FILENAME "@pmFromFile restricted-files.data" "id:1,phase:1,t:lowercase,deny"
//! ```

use super::{pm::Pm, Operator, OperatorEnv};
use std::path::Path;

/// Reads a list file: the non-comment lines of `name` (relative to `base_dir`).
pub(crate) fn read_lines(name: &str, base_dir: &Path, op: &str) -> Result<Vec<Vec<u8>>, String> {
    if name.contains("://") {
        return Err(format!(
            "`@{op}` cannot load `{name}`: remote files are not supported"
        ));
    }
    let path = base_dir.join(name);
    let data = std::fs::read(&path)
        .map_err(|e| format!("`@{op}` cannot read `{}`: {e}", path.display()))?;
    Ok(data
        .split(|&b| b == b'\n')
        .map(|l| l.strip_suffix(b"\r").unwrap_or(l))
        .filter(|l| {
            let t = l.trim_ascii_start();
            !t.is_empty() && !t.starts_with(b"#")
        })
        .map(<[u8]>::to_vec)
        .collect())
}

pub(crate) fn build(arg: &str, env: &OperatorEnv<'_>) -> Result<Box<dyn Operator>, String> {
    let mut phrases = Vec::new();
    for name in arg.split_ascii_whitespace() {
        phrases.extend(read_lines(name, env.base_dir, "pmFromFile")?);
    }
    if phrases.is_empty() {
        return Err(format!("`@pmFromFile {arg}`: no phrases found"));
    }
    Ok(Box::new(Pm::new(phrases, "pmFromFile")?))
}

#[cfg(test)]
mod tests {
    use crate::operators::{build, test_env, MatchOutput, OperatorEnv};

    #[test]
    fn reads_files_relative_to_base_dir() {
        let dir = std::env::temp_dir().join(format!("sekisho-pmf-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        std::fs::write(
            dir.join("a.data"),
            "# comment\n\n  # indented comment\nEvil Phrase\r\n lead\n",
        )
        .unwrap();
        std::fs::write(dir.join("b.data"), "other\n").unwrap();
        let env = OperatorEnv {
            base_dir: &dir,
            geo_db: None,
        };
        let op = build("pmf", "a.data b.data", &env).unwrap();
        let m = |v: &[u8]| op.matches(v, &mut MatchOutput::default());
        assert!(m(b"an evil phrase here") && m(b"OTHER") && m(b"x lead"));
        assert!(!m(b"comment") && !m(b"lead"));
        std::fs::remove_dir_all(&dir).unwrap();
    }

    #[test]
    fn errors() {
        let err = build("pmFromFile", "missing.data", &test_env()).unwrap_err();
        assert!(err.contains("cannot read"), "{err}");
        let err = build("pmFromFile", "https://example.com/x", &test_env()).unwrap_err();
        assert!(err.contains("remote files are not supported"), "{err}");
    }
}
