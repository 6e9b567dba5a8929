//! Request-body variables: `REQUEST_BODY`, `REQBODY_*`, `FILES*`, `MULTIPART_*`, `XML`.

use super::{push, push_members, push_num, Values, Var, VarValue};
use crate::collection::KeySel;
use crate::transaction::data::TxData;
use std::borrow::Cow;

fn flag(b: bool) -> Cow<'static, [u8]> {
    Cow::Borrowed(if b { b"1" } else { b"0" })
}

pub(super) fn collect<'a>(var: Var, sel: &'a KeySel, d: &'a TxData, out: &mut Values<'a>) -> bool {
    match var {
        Var::RequestBody => push(out, var, Cow::Borrowed(&d.request_body)),
        Var::RequestBodyLength => push_num(out, var, d.request_body.len()),
        Var::ReqbodyProcessor => {
            if !d.reqbody_processor.is_empty() {
                push(out, var, Cow::Borrowed(d.reqbody_processor.as_bytes()));
            }
        }
        Var::ReqbodyError => push(out, var, flag(d.reqbody_error)),
        Var::ReqbodyErrorMsg => {
            if !d.reqbody_error_msg.is_empty() {
                push(out, var, Cow::Borrowed(d.reqbody_error_msg.as_bytes()));
            }
        }
        Var::ReqbodyProcessorError => push(out, var, flag(d.reqbody_processor_error)),
        Var::InboundDataError => push(out, var, flag(d.inbound_data_error)),
        Var::UrlencodedError => push(out, var, flag(d.urlencoded_error)),
        Var::Files | Var::FilesNames | Var::FilesSizes | Var::FilesTmpnames => {
            for f in &d.files {
                if !sel.matches(&f.field) {
                    continue;
                }
                let value: Cow<'a, [u8]> = match var {
                    Var::Files => Cow::Borrowed(&f.filename),
                    Var::FilesNames => Cow::Borrowed(&f.field),
                    Var::FilesSizes => Cow::Owned(f.size.to_string().into_bytes()),
                    _ => Cow::Borrowed(&[]),
                };
                out.push(VarValue {
                    var,
                    key: Cow::Borrowed(&f.field),
                    value,
                });
            }
        }
        Var::FilesCombinedSize => push_num(out, var, d.files_combined_size),
        Var::FilesTmpContent => push_members(out, var, false, d.files_tmp_content.select(sel)),
        Var::MultipartFilename => push_members(out, var, false, d.multipart_filename.select(sel)),
        Var::MultipartName => push_members(out, var, false, d.multipart_name.select(sel)),
        Var::MultipartPartHeaders => {
            push_members(out, var, false, d.multipart_part_headers.select(sel))
        }
        Var::Xml => match sel {
            // The two forms CRS reads, made when the body was parsed: `XML:/*` is the whole
            // document's text, `XML://@*` every attribute value. Plain `XML` reads as `/*`.
            KeySel::Exact(k) if k.as_ref() == "//@*" => {
                for a in &d.xml_attrs {
                    push(out, var, Cow::Borrowed(a));
                }
            }
            KeySel::Exact(k) if k.as_ref() != "/*" => {
                // Any other XPath (checked when the rules loaded) is evaluated here.
                let found = d.xml.as_ref().and_then(|doc| doc.xpath(k).ok());
                for v in found.into_iter().flatten() {
                    push(out, var, Cow::Owned(v));
                }
            }
            _ => {
                if let Some(t) = &d.xml_text {
                    push(out, var, Cow::Borrowed(t));
                }
            }
        },
        _ => {
            let Some(name) = multipart_name(var) else {
                return false;
            };
            let v = d.multipart.get(name.as_bytes()).unwrap_or(b"0");
            push(out, var, Cow::Borrowed(v));
        }
    }
    true
}

fn multipart_name(var: Var) -> Option<&'static str> {
    matches!(
        var,
        Var::MultipartStrictError
            | Var::MultipartUnmatchedBoundary
            | Var::MultipartBoundaryQuoted
            | Var::MultipartBoundaryWhitespace
            | Var::MultipartDataAfter
            | Var::MultipartDataBefore
            | Var::MultipartFileLimitExceeded
            | Var::MultipartHeaderFolding
            | Var::MultipartInvalidHeaderFolding
            | Var::MultipartInvalidPart
            | Var::MultipartInvalidQuoting
            | Var::MultipartLfLine
            | Var::MultipartMissingSemicolon
            | Var::MultipartCrlfLfLines
    )
    .then(|| var.name())
}
