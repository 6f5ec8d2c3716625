//! One logical client connection: its keep-alive TCP connection (reopened when the server closes
//! it), its MCP session, and the requests of one step (including the initialize handshake).

use crate::cli::Sessions;
use crate::exchange::{exchange, Response};
use crate::outcome::Outcome;
use crate::plan::{
    request_body, request_body_progress, Draw, Plan, Rng, Step, INITIALIZED_NOTIFICATION,
};
use crate::stats::Stats;
use crate::target::Target;
use mcpguard::mcp::headers::valid_session_id;
use mcpguard::net::conn::Conn;
use monoio::net::TcpStream;
use std::cell::RefCell;
use std::rc::Rc;
use std::sync::Arc;
use std::time::{Duration, Instant};

/// Everything the connections of a run share (read-only).
pub struct Shared {
    pub target: Target,
    pub plan: Plan,
    pub sessions: Sessions,
    pub timeout: Duration,
    pub max_body: usize,
    /// Rendered `Name: value\r\n` lines from --header.
    pub extra_headers: String,
    pub api_keys: Vec<String>,
    pub protocol_version: String,
    /// Ask for progress notifications on tools/call (`params._meta.progressToken`).
    pub progress: bool,
}

enum Session {
    /// An initialize is due before the next request.
    Needed,
    /// Initialized; the server's session id, if it issued one.
    Ready(Option<String>),
}

pub struct Client {
    shared: Arc<Shared>,
    stats: Rc<RefCell<Stats>>,
    conn: Option<Conn>,
    session: Session,
    /// Protocol version the server chose in initialize (sent as MCP-Protocol-Version).
    version: String,
    /// Request line and the headers that never change on this connection.
    prefix: Vec<u8>,
    next_id: u64,
    rng: Rng,
    opened: bool,
}

impl Client {
    pub fn new(shared: Arc<Shared>, stats: Rc<RefCell<Stats>>, index: usize) -> Client {
        let t = &shared.target;
        let mut prefix = format!(
            "POST {} HTTP/1.1\r\nHost: {}\r\nUser-Agent: mcpguard-loadtest/{}\r\n\
             Content-Type: application/json\r\nAccept: application/json, text/event-stream\r\n",
            t.path,
            t.host,
            env!("CARGO_PKG_VERSION")
        );
        if !shared.api_keys.is_empty() {
            let key = &shared.api_keys[index % shared.api_keys.len()];
            prefix.push_str(&format!("Authorization: Bearer {key}\r\n"));
        }
        prefix.push_str(&shared.extra_headers);
        let session = match shared.sessions {
            Sessions::PerConnection => Session::Needed,
            Sessions::None => Session::Ready(None),
        };
        Client {
            version: shared.protocol_version.clone(),
            shared,
            stats,
            conn: None,
            session,
            prefix: prefix.into_bytes(),
            next_id: 1,
            rng: Rng::new(index as u64 + 1),
            opened: false,
        }
    }

    pub fn draw(&mut self) -> Draw {
        self.shared.plan.draw(&mut self.rng)
    }

    pub fn plan(&self) -> &crate::plan::Plan {
        &self.shared.plan
    }

    /// Before the measured run: connect and, with sessions, initialize. Failures are counted
    /// and retried lazily by the first request.
    pub async fn setup(&mut self) {
        let deadline = Instant::now() + self.shared.timeout;
        self.stats.borrow_mut().setup.connections += 1;
        if self.ensure_connected(deadline).await.is_err() {
            self.stats.borrow_mut().setup.connect_errors += 1;
            return;
        }
        // init-call opens a fresh session per iteration: nothing to set up.
        let only_churn = self.shared.plan.only_init_call();
        if matches!(self.session, Session::Needed) && !only_churn {
            let ok = self.initialize(deadline).await.is_ok();
            let mut st = self.stats.borrow_mut();
            if ok {
                st.setup.initialize_ok += 1;
                if matches!(self.session, Session::Ready(Some(_))) {
                    st.setup.sessions += 1;
                }
            } else {
                st.setup.initialize_failed += 1;
            }
        }
    }

    /// Runs one step and returns the response that decides its outcome.
    pub async fn run(&mut self, draw: &Draw) -> Response {
        let deadline = Instant::now() + self.shared.timeout;
        match draw.step {
            Step::Rpc(i) => {
                if matches!(self.session, Session::Needed) {
                    let r = self.initialize(deadline).await;
                    let mut st = self.stats.borrow_mut();
                    match r {
                        Ok(()) => st.setup.reinitialized += 1,
                        Err(resp) => {
                            st.setup.reinitialize_failed += 1;
                            return resp;
                        }
                    }
                }
                self.call(i, draw.attack, deadline).await
            }
            Step::InitCall => {
                if let Err(resp) = self.initialize(deadline).await {
                    return resp;
                }
                let i = self.shared.plan.call_index;
                self.call(i, draw.attack, deadline).await
            }
        }
    }

    async fn call(&mut self, method: usize, attack: bool, deadline: Instant) -> Response {
        let shared = self.shared.clone();
        let Some(m) = shared.plan.methods.get(method) else {
            return Response::failed(Outcome::ProtocolError);
        };
        let params = if attack {
            m.attack_params.as_deref().or(m.params.as_deref())
        } else {
            m.params.as_deref()
        };
        let id = self.take_id();
        let body = match params {
            Some(p) if self.shared.progress && method == self.shared.plan.call_index => {
                request_body_progress(id, &m.name, p)
            }
            _ => request_body(id, &m.name, params),
        };
        self.send(body, Some(id), deadline, false, true).await
    }

    /// initialize + notifications/initialized; on success the session is ready.
    async fn initialize(&mut self, deadline: Instant) -> Result<(), Response> {
        let id = self.take_id();
        let body = request_body(id, "initialize", Some(&self.shared.plan.initialize_params));
        let resp = self.send(body, Some(id), deadline, true, false).await;
        if resp.outcome != Outcome::Ok {
            return Err(resp);
        }
        if let Some(v) = resp.message.as_deref().and_then(negotiated_version) {
            self.version = v;
        }
        self.session = Session::Ready(
            resp.session_id
                .clone()
                .filter(|s| valid_session_id(s.as_bytes())),
        );
        let note = self
            .send(
                INITIALIZED_NOTIFICATION.to_vec(),
                None,
                deadline,
                false,
                true,
            )
            .await;
        if note.outcome != Outcome::Ok {
            self.session = Session::Needed;
            return Err(note);
        }
        Ok(())
    }

    fn take_id(&mut self) -> u64 {
        let id = self.next_id;
        self.next_id += 1;
        id
    }

    /// Makes sure a usable connection is open (a kept-alive one the server has not closed).
    async fn ensure_connected(&mut self, deadline: Instant) -> Result<(), Outcome> {
        if let Some(c) = &self.conn {
            if c.idle_is_reusable() {
                return Ok(());
            }
            self.conn = None;
        }
        if self.opened {
            self.stats.borrow_mut().setup.reconnects += 1;
        }
        self.opened = true;
        let wait = deadline.saturating_duration_since(Instant::now());
        match monoio::time::timeout(wait, TcpStream::connect_addr(self.shared.target.addr)).await {
            Err(_) => Err(Outcome::Timeout),
            Ok(Err(_)) => Err(Outcome::ConnectError),
            Ok(Ok(tcp)) => {
                // Small requests must not wait for Nagle.
                let _ = tcp.set_nodelay(true);
                self.conn = Some(Conn::plain(tcp));
                Ok(())
            }
        }
    }

    /// Sends one message (with session headers when `in_session`) and handles the connection
    /// and session bookkeeping its answer implies.
    async fn send(
        &mut self,
        body: Vec<u8>,
        id: Option<u64>,
        deadline: Instant,
        keep_message: bool,
        in_session: bool,
    ) -> Response {
        if let Err(outcome) = self.ensure_connected(deadline).await {
            return Response::failed(outcome);
        }
        let mut req = Vec::with_capacity(self.prefix.len() + body.len() + 160);
        req.extend_from_slice(&self.prefix);
        let mut used_session = false;
        if in_session {
            if let Session::Ready(Some(sid)) = &self.session {
                req.extend_from_slice(b"Mcp-Session-Id: ");
                req.extend_from_slice(sid.as_bytes());
                req.extend_from_slice(b"\r\n");
                used_session = true;
            }
            req.extend_from_slice(b"MCP-Protocol-Version: ");
            req.extend_from_slice(self.version.as_bytes());
            req.extend_from_slice(b"\r\n");
        }
        req.extend_from_slice(b"Content-Length: ");
        req.extend_from_slice(body.len().to_string().as_bytes());
        req.extend_from_slice(b"\r\n\r\n");
        req.extend_from_slice(&body);
        let Some(conn) = self.conn.as_mut() else {
            return Response::failed(Outcome::ConnectError);
        };
        let resp = exchange(conn, req, id, deadline, self.shared.max_body, keep_message).await;
        if !resp.reusable {
            self.conn = None;
        }
        // 404 on a request carrying a session id: the session is gone, start a new one.
        if used_session && resp.status == 404 {
            self.session = Session::Needed;
        }
        resp
    }
}

fn negotiated_version(message: &[u8]) -> Option<String> {
    let v: serde_json::Value = serde_json::from_slice(message).ok()?;
    let s = v.get("result")?.get("protocolVersion")?.as_str()?;
    (!s.is_empty() && s.len() <= 64 && s.bytes().all(|b| (0x21..=0x7e).contains(&b)))
        .then(|| s.to_string())
}
