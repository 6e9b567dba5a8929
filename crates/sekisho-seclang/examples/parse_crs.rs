//! Measures how long parsing the full CRS takes.
//!
//! `cargo run --release -p sekisho-seclang --example parse_crs [CRS_DIR]`
//! (default `../shared/crs` relative to the workspace root).

use std::path::PathBuf;
use std::time::{Duration, Instant};

fn main() -> Result<(), String> {
    let crs = std::env::args()
        .nth(1)
        .map(PathBuf::from)
        .unwrap_or_else(|| PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../../shared/crs"));
    let main = std::env::temp_dir().join(format!("sekisho-parse-crs-{}.conf", std::process::id()));
    let text = format!(
        "Include {}\nInclude {}/rules/*.conf\n",
        crs.join("crs-setup.conf.example").display(),
        crs.display()
    );
    std::fs::write(&main, text).map_err(|e| format!("cannot write `{}`: {e}", main.display()))?;
    let runs = 20u32;
    let mut best = Duration::MAX;
    let mut total = Duration::ZERO;
    let mut count = 0;
    for _ in 0..runs {
        let start = Instant::now();
        let directives = sekisho_seclang::parse_file(&main).map_err(|e| e.to_string())?;
        let elapsed = start.elapsed();
        best = best.min(elapsed);
        total += elapsed;
        count = directives.len();
    }
    let _ = std::fs::remove_file(&main);
    println!(
        "parsed {count} directives of the full CRS: best {:.2} ms, mean {:.2} ms over {runs} runs",
        best.as_secs_f64() * 1e3,
        total.as_secs_f64() * 1e3 / f64::from(runs)
    );
    Ok(())
}
