//! Phase `detect`: applies the verdict the `parse` phase's scan reached. Anything found is
//! counted and audited here (once, with its findings). `block` refuses the message with a
//! policy denial naming the rules (HTTP 200 for a request, which awaits a JSON-RPC answer; 403
//! for a notification or response); `redact` and `filter` replace the body with its rewrite,
//! and a rewrite that fails is a block (fail closed); `log` forwards the original bytes.

use crate::detect::engine::Decision;
use crate::detect::scan::Direction;
use crate::pipeline::ctx::{Ctx, Reject};
use crate::pipeline::detect::{denial_body, forwardable, record};
use crate::pipeline::phase::Phase;
use std::borrow::Cow;

pub struct Detect;

impl Phase for Detect {
    fn name(&self) -> &'static str {
        "detect"
    }

    fn run(&self, cx: &mut Ctx<'_>) -> Result<(), Reject> {
        let v = &cx.verdict;
        if v.findings.is_empty() {
            return Ok(());
        }
        let id = cx.rpc_id();
        record(cx, Direction::Request, id, v);
        let refuse = || {
            let status = if id.is_some() { 200 } else { 403 };
            let mut r = Reject::raw(
                status,
                "policy_denied",
                "blocked by the detection policy",
                denial_body(id, Direction::Request, v),
            );
            r.audited = true;
            r
        };
        if v.decision == Decision::Block {
            return Err(refuse());
        }
        match forwardable(&cx.req.body, v) {
            Some(Cow::Borrowed(_)) => Ok(()),
            Some(Cow::Owned(b)) => {
                cx.rewritten = Some(b);
                Ok(())
            }
            None => Err(refuse()),
        }
    }
}
