//! `@ipMatchFromFile FILE` (alias `@ipMatchF`): `@ipMatch` with one address or CIDR network
//! per line, read from `FILE` (relative to the rule file's directory); blank lines and `#`
//! comments are skipped.
//!
//! ```text
//! SecRule REMOTE_ADDR "@ipMatchFromFile blocked-ips.txt" "id:1,phase:1,deny"
//! ```

use super::ip_match::{IpMatch, Net};
use super::pm_from_file::read_lines;
use super::{Operator, OperatorEnv};

pub(crate) fn build(arg: &str, env: &OperatorEnv<'_>) -> Result<Box<dyn Operator>, String> {
    let mut nets = Vec::new();
    for line in read_lines(arg.trim(), env.base_dir, "ipMatchFromFile")? {
        let text = String::from_utf8_lossy(&line);
        let net = Net::parse(text.trim()).map_err(|e| format!("`@ipMatchFromFile {arg}`: {e}"))?;
        nets.push(net);
    }
    Ok(Box::new(IpMatch(nets)))
}

#[cfg(test)]
mod tests {
    use crate::operators::{build, MatchOutput, OperatorEnv};

    #[test]
    fn reads_a_list() {
        let dir = std::env::temp_dir().join(format!("sekisho-ipf-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        std::fs::write(
            dir.join("ips.txt"),
            "# bad hosts\n192.0.2.0/24\n\n2001:db8::1\n",
        )
        .unwrap();
        std::fs::write(dir.join("bad.txt"), "nonsense\n").unwrap();
        let env = OperatorEnv {
            base_dir: &dir,
            geo_db: None,
        };
        let op = build("ipMatchF", "ips.txt", &env).unwrap();
        assert!(op.matches(b"192.0.2.77", &mut MatchOutput::default()));
        assert!(op.matches(b"2001:db8::1", &mut MatchOutput::default()));
        assert!(!op.matches(b"192.0.3.1", &mut MatchOutput::default()));
        assert!(build("ipMatchFromFile", "bad.txt", &env)
            .unwrap_err()
            .contains("`nonsense`"));
        std::fs::remove_dir_all(&dir).unwrap();
    }
}
