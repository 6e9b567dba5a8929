//! SQL-injection detection: tokenize, fold to a ≤5-token fingerprint, look the
//! fingerprint up, then filter false positives of short fingerprints.

mod filter;
mod fold;
mod keywords;
mod lexer;
mod token;

use fold::{fold, Tokens, MAX_TOKENS};
use lexer::{Context, Lexer};
use token::{is_listed_fingerprint, Kind, Token};

/// One pass over the input in one [`Context`]: the folded tokens and their fingerprint.
pub(super) struct Analysis {
    tokens: Tokens,
    /// Room for six: a `{` fold can stop with one token more than the usual five.
    fingerprint: [u8; MAX_TOKENS + 1],
    len: usize,
    stats_tokens: usize,
    /// The pass saw `#` or `--x`, whose meaning differs in MySQL.
    mysql_sensitive: bool,
}

impl Analysis {
    fn run(input: &[u8], ctx: Context) -> Self {
        let mut lexer = Lexer::new(input, ctx);
        let mut tokens = Tokens::default();
        let len = fold(&mut lexer, &mut tokens);

        // PHP's unterminated empty backtick acts as a comment.
        if len > 2 {
            let last = tokens.at(len - 1);
            if last.kind == Kind::Bareword
                && last.str_open == b'`'
                && last.len() == 0
                && last.str_close == 0
            {
                tokens.set_kind(len - 1, Kind::Comment);
            }
        }

        let mut fingerprint = [0u8; MAX_TOKENS + 1];
        for (i, slot) in fingerprint.iter_mut().enumerate().take(len) {
            *slot = tokens.at(i).kind.code();
        }
        let mut analysis = Analysis {
            tokens,
            fingerprint,
            len,
            stats_tokens: lexer.stats_tokens,
            mysql_sensitive: lexer.stats_comment_ddx > 0 || lexer.stats_comment_hash > 0,
        };
        if analysis.fingerprint().contains(&Kind::Evil.code()) {
            // Unparsable input: the whole fingerprint becomes `X`.
            let mut evil = Token::default();
            evil.assign(Kind::Evil, 0, b"X");
            analysis.tokens.set(0, evil);
            analysis.tokens.set_kind(1, Kind::None);
            analysis.fingerprint = [0; MAX_TOKENS + 1];
            analysis.fingerprint[0] = Kind::Evil.code();
            analysis.len = 1;
        }
        analysis
    }

    /// The fingerprint, e.g. `s&sos`.
    pub(super) fn fingerprint(&self) -> &[u8] {
        self.fingerprint.get(..self.len).unwrap_or(&[])
    }

    fn token(&self, i: usize) -> Token {
        self.tokens.at(i)
    }

    fn is_sqli(&self, input: &[u8]) -> bool {
        !self.fingerprint().is_empty()
            && is_listed_fingerprint(self.fingerprint())
            && filter::is_plausible(self, input)
    }
}

/// Returns the fingerprint when `input` is SQL injection.
///
/// Tries the input as-is (ANSI comments, then MySQL ones when that matters), then as the
/// tail of a single-quoted and of a double-quoted string, like libinjection.
pub(crate) fn detect(input: &[u8]) -> Option<String> {
    if input.is_empty() || is_one_token(input) {
        return None;
    }
    in_any_context(input)
}

/// Whether `input` is one word (`[A-Za-z_][A-Za-z0-9_]*`) or one number (`[0-9]+`): a single
/// token in every context, and no single-token fingerprint but `X` (unparsable input) is
/// listed. Most argument and cookie values are such words or numbers.
fn is_one_token(input: &[u8]) -> bool {
    let word = |c: &u8| c.is_ascii_alphanumeric() || *c == b'_';
    match input.first() {
        Some(c) if c.is_ascii_digit() => input.iter().all(u8::is_ascii_digit),
        Some(_) => input.iter().all(word),
        None => false,
    }
}

/// [`detect`] without its shortcut.
fn in_any_context(input: &[u8]) -> Option<String> {
    let mut passes: [Option<(u8, bool)>; 3] = [Some((0, true)), None, None];
    if input.contains(&b'\'') {
        passes[1] = Some((b'\'', true));
    }
    if input.contains(&b'"') {
        // libinjection reads the double-quote context with MySQL comments only.
        passes[2] = Some((b'"', false));
    }
    for (quote, ansi_first) in passes.into_iter().flatten() {
        let ctx = Context {
            quote,
            mysql: !ansi_first,
        };
        let first = Analysis::run(input, ctx);
        if first.is_sqli(input) {
            return Some(fingerprint_string(&first));
        }
        if ansi_first && first.mysql_sensitive {
            let mysql = Analysis::run(input, Context { quote, mysql: true });
            if mysql.is_sqli(input) {
                return Some(fingerprint_string(&mysql));
            }
        }
    }
    None
}

fn fingerprint_string(analysis: &Analysis) -> String {
    analysis
        .fingerprint()
        .iter()
        .map(|&c| char::from(c))
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn fp(input: &str) -> Option<String> {
        detect(input.as_bytes())
    }

    /// The one-token shortcut changes no verdict: every string over an alphabet of word
    /// bytes, digits and bytes that start other tokens, alone and around keywords.
    #[test]
    fn one_token_shortcut_changes_no_verdict() {
        crate::each_string(b"a1_0xe.", 5, |input| {
            for word in [&b""[..], b"union", b"or", b"select", b"sleep", b"1"] {
                for s in [[input, word].concat(), [word, input].concat()] {
                    assert_eq!(
                        detect(&s),
                        in_any_context(&s).filter(|_| !s.is_empty()),
                        "{:?}",
                        String::from_utf8_lossy(&s)
                    );
                }
            }
        });
        assert!(!is_one_token(b"1union") && is_one_token(b"union") && is_one_token(b"42"));
    }

    #[test]
    fn classic_injections() {
        assert_eq!(fp("1' OR '1'='1").as_deref(), Some("s&sos"));
        assert_eq!(fp("1 OR 1=1").as_deref(), Some("1&1"));
        assert_eq!(fp("-1839' or '1'='1").as_deref(), Some("s&sos"));
        assert!(fp("1 UNION ALL SELECT NULL--").is_some());
        assert!(fp("foo') UNION ALL select NULL --").is_some());
        assert!(fp("1' AND SLEEP(5)#").is_some());
        assert!(fp("admin'--").is_some());
        assert!(fp("1;DROP TABLE users").is_some());
        assert!(fp("1/*!UNION*/SELECT 1").is_some());
    }

    /// Fingerprints of classic payloads (cross-checked against another libinjection port).
    #[test]
    fn classic_fingerprints() {
        let cases = [
            ("1 UNION SELECT 1,2,3--", "1UE1c"),
            ("' OR 1=1--", "s&1c"),
            ("admin' --", "sc"),
            ("1; DROP TABLE users--", "1;Tnn"),
            ("' UNION ALL SELECT NULL,NULL--", "sUEvc"),
            ("1' AND SLEEP(5)#", "s&f(1"),
            ("-1 OR 2+2=4", "1&1"),
            ("';exec master..xp_cmdshell 'dir'--", "s;Tns"),
            ("1' waitfor delay '0:0:5'--", "sEsc"),
            ("1 /*!50000UNION*/ SELECT 1", "X"),
            ("1.0f UNION SELECT 1", "1UE1"),
            ("1 GROUP BY 1 HAVING 1=1", "1B1B1"),
            ("1 IN (SELECT 1)", "1o(E1"),
            ("{ `` }", "X"),
            ("SELECT CHAR(0x41)", "Ef(1)"),
            ("x' AND 1=CONVERT(int,@@version)--", "s&1of"),
        ];
        for (input, want) in cases {
            assert_eq!(fp(input).as_deref(), Some(want), "{input}");
        }
        for benign in ["@@version", "1 or @@version", "$$ OR 1=1 $$"] {
            assert_eq!(fp(benign), None, "{benign}");
        }
    }

    #[test]
    fn multi_word_keywords_merge() {
        // Regression: lower-case phrases merge too, and `INTO OUTFILE` survives the
        // three-token keyword filter.
        assert_eq!(fp("Data dump using 'into outfile'").as_deref(), Some("sks"));
        assert!(fp("1' INTO OUTFILE '/tmp/x").is_some());
        assert!(fp("x' UNION ALL SELECT 1,2--").is_some());
    }

    #[test]
    fn benign_text_is_not_sqli() {
        for benign in [
            "hello world",
            "O'Reilly",
            "john.doe@example.com",
            "1234",
            "it's a nice day",
            "Mozilla/5.0 (X11; Linux x86_64) Gecko/20100101 Firefox/120.0",
            "sexy and 17",
            "",
        ] {
            assert_eq!(fp(benign), None, "{benign}");
        }
    }

    #[test]
    fn evil_comments_fingerprint_as_x() {
        assert_eq!(fp("1 /* /* */").as_deref(), Some("X"));
        // Regression: the `{ ``` rule stops folding at six tokens; the X must survive.
        assert_eq!(fp(">&#x6a;::{`").as_deref(), Some("X"));
    }
}
