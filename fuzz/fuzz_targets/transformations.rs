//! Runs every SecLang transformation, each followed by a second one picked by the first input
//! byte (rules chain them), on arbitrary bytes: none may panic or hang, and none may change a
//! value that holds none of its trigger bytes (the engine skips it then).
#![no_main]

use libfuzzer_sys::fuzz_target;
use sekisho_waf::byteset::ByteSet;
use sekisho_waf::transformations::TRANSFORMATIONS;

fuzz_target!(|data: &[u8]| {
    // The first byte picks a second transformation to chain after each one, as rules do.
    let Some((&pick, input)) = data.split_first() else {
        return;
    };
    let second = &TRANSFORMATIONS[usize::from(pick) % TRANSFORMATIONS.len()];
    let present = ByteSet::of(input);
    for t in TRANSFORMATIONS {
        let once = (t.func)(input);
        if !t.triggers.triggered_by(present) {
            assert_eq!(once, None, "{} changed a value without its trigger bytes", t.name);
        }
        let value = once.as_deref().unwrap_or(input);
        let _ = (second.func)(value);
    }
});
