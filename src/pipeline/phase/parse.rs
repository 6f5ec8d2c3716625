//! Phase `parse`: the body as a JSON-RPC 2.0 message or batch (simd-json over a scratch copy; the
//! original bytes are what gets forwarded). Detection scans the same parse, so its verdict is in
//! the context from here on; the `detect` phase applies it later. 400 with -32700 (not JSON) or
//! -32600 (not JSON-RPC), no id to echo.

use crate::detect::scan::Direction;
use crate::pipeline::ctx::{Ctx, Reject};
use crate::pipeline::detect::{inspect, RequestInfo};
use crate::pipeline::phase::Phase;

pub struct Parse;

impl Phase for Parse {
    fn name(&self) -> &'static str {
        "parse"
    }

    fn run(&self, cx: &mut Ctx<'_>) -> Result<(), Reject> {
        let scanned = inspect(
            cx.w,
            cx.snap,
            cx.up,
            &cx.req.body,
            Direction::Request,
            RequestInfo::default(),
        );
        match scanned {
            Ok((envelope, verdict)) => {
                cx.message = Some(envelope);
                cx.verdict = verdict;
                Ok(())
            }
            Err(e) => Err(Reject::rpc(
                400,
                e.code(),
                e.reason(),
                format!("{}: {}", e.message(), e.detail()),
            )),
        }
    }
}
