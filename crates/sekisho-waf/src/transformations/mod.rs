//! SecLang transformations (`t:name`): one file each, listed in [`TRANSFORMATIONS`].

/// A transformation: returns `None` when the input is unchanged (saves a copy).
pub type TransformFn = fn(&[u8]) -> Option<Vec<u8>>;

/// One registry entry.
#[derive(Debug)]
pub struct Transformation {
    /// SecLang name, in its canonical case (e.g. `urlDecodeUni`).
    pub name: &'static str,
    pub func: TransformFn,
}

/// Every transformation this engine knows.
pub static TRANSFORMATIONS: &[Transformation] = &[];

/// Looks a transformation up by its SecLang name, case-insensitively.
pub fn lookup(name: &str) -> Option<&'static Transformation> {
    TRANSFORMATIONS
        .iter()
        .find(|t| t.name.eq_ignore_ascii_case(name))
}
