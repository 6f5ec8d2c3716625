//! Phase `content-type`: a Streamable HTTP POST carries `application/json` (415 otherwise, as
//! the transport spec requires of the body's media type).

use crate::mcp::errors::codes;
use crate::pipeline::ctx::{Ctx, Reject};
use crate::pipeline::phase::Phase;

pub struct ContentType;

impl Phase for ContentType {
    fn name(&self) -> &'static str {
        "content-type"
    }

    fn run(&self, cx: &mut Ctx<'_>) -> Result<(), Reject> {
        if is_json(cx.req.head.header_str("content-type")) {
            return Ok(());
        }
        Err(Reject::rpc(
            415,
            codes::INVALID_REQUEST,
            "unsupported_media_type",
            "Content-Type must be application/json",
        ))
    }
}

fn is_json(content_type: Option<&str>) -> bool {
    content_type.is_some_and(|ct| {
        let media = ct.split(';').next().unwrap_or("").trim();
        media.eq_ignore_ascii_case("application/json")
    })
}

#[cfg(test)]
mod tests {
    #[test]
    fn media_type_parameters_and_case() {
        assert!(super::is_json(Some("application/json")));
        assert!(super::is_json(Some("Application/JSON; charset=utf-8")));
        assert!(!super::is_json(Some("text/plain")));
        assert!(!super::is_json(None));
    }
}
