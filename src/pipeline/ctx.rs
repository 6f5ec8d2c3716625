//! The request context every phase reads and writes, and the one rejection type every phase
//! returns. A rejection is answered, counted, logged and audited in one place
//! ([`crate::pipeline::answer::reject`]), never by the phase that decided it.

use crate::config::Route;
use crate::detect::engine::Verdict;
use crate::mcp::envelope::{Envelope, JsonRpcId};
use crate::mcp::session::SessionToken;
use crate::net::Request;
use crate::pipeline::auth::{Identity, Principal};
use crate::pipeline::snapshot::Snapshot;
use crate::pipeline::worker::Worker;
use crate::upstream::Peer;
use std::borrow::Cow;

/// Everything known about one request, filled in phase by phase.
pub struct Ctx<'a> {
    pub w: &'a Worker,
    /// The configuration the request started on; it keeps it to its end.
    pub snap: &'a Snapshot,
    pub req: &'a Request,
    /// Set by `route`.
    pub route: &'a Route,
    pub up: &'a Peer,
    /// The path after the route's prefix (`""` for an exact match).
    pub rest: &'a str,
    /// Set by `authenticate` on a tenant's route: who is calling (`None` on an open route).
    pub identity: Option<Identity<'a>>,
    /// Set by `parse`: the JSON-RPC message (or batch) and what detection found in it (from the
    /// same parse).
    pub message: Option<Envelope>,
    pub verdict: Verdict,
    /// Set by `session`: the client's sealed session, opened.
    pub session: Option<SessionToken>,
    /// Set by `legacy-endpoint`: the upstream path a legacy client posts to, and the stream its
    /// answers travel on.
    pub target: Option<String>,
    pub legacy_stream: Option<crate::pipeline::legacy_streams::StreamRef>,
    /// Set by `detect`: the bytes to forward instead of the body (a redaction or filter).
    pub rewritten: Option<Vec<u8>>,
    /// Set by `limit` and `stream-limit`: the in-flight units this request or stream holds,
    /// given back when the context drops (the end of the request or of the stream).
    pub held: Vec<crate::ratelimit::InFlightGuard<'a>>,
}

impl<'a> Ctx<'a> {
    pub fn new(
        w: &'a Worker,
        snap: &'a Snapshot,
        req: &'a Request,
        route: &'a Route,
        up: &'a Peer,
        rest: &'a str,
    ) -> Self {
        Self {
            w,
            snap,
            req,
            route,
            up,
            rest,
            identity: None,
            message: None,
            verdict: Verdict::allow(),
            session: None,
            target: None,
            legacy_stream: None,
            rewritten: None,
            held: Vec::new(),
        }
    }

    /// The id of a single request message, to echo in an error.
    pub fn rpc_id(&self) -> Option<&JsonRpcId> {
        match &self.message {
            Some(Envelope::Single(m)) => m.id.as_ref(),
            _ => None,
        }
    }

    /// The bytes to forward upstream: the original body unless a phase rewrote it.
    pub fn body(&self) -> &[u8] {
        self.rewritten.as_deref().unwrap_or(&self.req.body)
    }

    /// The caller, once `authenticate` resolved it.
    pub fn principal(&self) -> Option<&Principal> {
        self.identity.as_deref()
    }

    /// What a sealed session of this caller carries (`""` on an open route).
    pub fn binding(&self) -> &str {
        self.principal().map_or("", |p| &p.binding)
    }

    /// The upstream session id inside the client's sealed one.
    pub fn upstream_session(&self) -> Option<&str> {
        self.session.as_ref()?.upstream_session.as_deref()
    }
}

/// How a rejection is written.
#[derive(Debug, Clone)]
pub enum RejectBody {
    /// `{"error":{"status","reason","message"}}`: requests that are not JSON-RPC (no route,
    /// wrong method, a refused Origin).
    Http,
    /// A JSON-RPC error echoing the request's id, with `data.reason` and one optional extra
    /// member.
    Rpc {
        code: i32,
        extra: Vec<(&'static str, String)>,
    },
    /// A body the phase wrote itself (a policy denial listing its findings; the versions a
    /// client may retry with).
    Raw(Vec<u8>),
}

/// A phase's refusal: everything the single answering place needs.
#[derive(Debug, Clone)]
pub struct Reject {
    pub status: u16,
    /// Stable and machine-readable: the JSON-RPC error's `data.reason`, the audit record's
    /// reason and the `reason` label of `mcpguard_rejections_by_reason_total`.
    pub reason: &'static str,
    pub message: Cow<'static, str>,
    pub body: RejectBody,
    /// The detection phase has already audited this message with its findings.
    pub audited: bool,
    /// Response headers besides the framing (`WWW-Authenticate`).
    pub headers: Vec<(&'static str, String)>,
}

impl Reject {
    pub fn http(status: u16, reason: &'static str, message: impl Into<Cow<'static, str>>) -> Self {
        Self {
            status,
            reason,
            message: message.into(),
            body: RejectBody::Http,
            audited: false,
            headers: Vec::new(),
        }
    }

    pub fn rpc(
        status: u16,
        code: i32,
        reason: &'static str,
        message: impl Into<Cow<'static, str>>,
    ) -> Self {
        Self {
            status,
            reason,
            message: message.into(),
            body: RejectBody::Rpc {
                code,
                extra: Vec::new(),
            },
            audited: false,
            headers: Vec::new(),
        }
    }

    pub fn with_extra(mut self, key: &'static str, value: impl Into<String>) -> Self {
        if let RejectBody::Rpc { extra, .. } = &mut self.body {
            extra.push((key, value.into()));
        }
        self
    }

    pub fn with_header(mut self, name: &'static str, value: impl Into<String>) -> Self {
        self.headers.push((name, value.into()));
        self
    }

    pub fn raw(status: u16, reason: &'static str, message: &'static str, body: Vec<u8>) -> Self {
        Self {
            status,
            reason,
            message: Cow::Borrowed(message),
            body: RejectBody::Raw(body),
            audited: false,
            headers: Vec::new(),
        }
    }
}
