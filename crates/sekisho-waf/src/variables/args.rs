//! `ARGS`, `ARGS_GET`, `ARGS_POST`, their `_NAMES`, and `ARGS_COMBINED_SIZE`.
//!
//! `ARGS` is the query-string arguments followed by the body arguments.

use super::{push_members, push_num, Values, Var};
use crate::collection::KeySel;
use crate::transaction::data::TxData;

pub(super) fn collect<'a>(var: Var, sel: &'a KeySel, d: &'a TxData, out: &mut Values<'a>) -> bool {
    match var {
        Var::Args | Var::ArgsNames => {
            let names = var == Var::ArgsNames;
            push_members(out, var, names, d.args_get.select(sel));
            push_members(out, var, names, d.args_post.select(sel));
        }
        Var::ArgsGet => push_members(out, var, false, d.args_get.select(sel)),
        Var::ArgsGetNames => push_members(out, var, true, d.args_get.select(sel)),
        Var::ArgsPost => push_members(out, var, false, d.args_post.select(sel)),
        Var::ArgsPostNames => push_members(out, var, true, d.args_post.select(sel)),
        Var::ArgsCombinedSize => {
            let size: usize = d
                .args_get
                .entries
                .iter()
                .chain(&d.args_post.entries)
                .map(|(k, v)| k.len() + v.len())
                .sum();
            push_num(out, var, size);
        }
        _ => return false,
    }
    true
}
