//! Fuzzes the strict HTTP/1 scanner that watches every byte a client sends: it never
//! panics, and where the reads are cut makes no difference to its verdicts (all at once,
//! byte by byte, and at places chosen by the first input byte).
#![no_main]

use libfuzzer_sys::fuzz_target;
use sekisho_gateway::strict::{HeadScanner, Verdicts};
use std::sync::Arc;

/// Verdicts and lost flag after feeding `data` in pieces ending at `cuts`.
fn run(data: &[u8], cuts: &[usize]) -> (Vec<Option<&'static str>>, bool) {
    let v = Arc::new(Verdicts::default());
    // A head limit beyond any input: it is checked only on heads that span reads.
    let mut s = HeadScanner::new(1 << 20, Arc::clone(&v));
    let mut from = 0;
    for &to in cuts.iter().chain([&data.len()]) {
        if let Some(piece) = data.get(from..to) {
            s.feed(piece);
            from = to;
        }
    }
    v.take_all()
}

fuzz_target!(|input: &[u8]| {
    let Some((&seed, data)) = input.split_first() else {
        return;
    };
    let whole = run(data, &[]);
    let bytes: Vec<usize> = (1..data.len()).collect();
    assert_eq!(whole, run(data, &bytes), "byte by byte");
    let step = usize::from(seed % 17) + 1;
    let cuts: Vec<usize> = (step..data.len()).step_by(step).collect();
    assert_eq!(whole, run(data, &cuts), "every {step} bytes");
});
