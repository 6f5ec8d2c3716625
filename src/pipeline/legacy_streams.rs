//! The SSE streams of legacy HTTP+SSE clients, and the delivery of the gateway's own answers onto
//! them. In the 2024-11-05 transport a client reads every response from its stream and ignores
//! the body of its POSTs, so an answer the gateway gives itself (a policy denial, an upstream
//! failure) must travel on that stream, which another worker may hold.
//!
//! The sealed endpoint a client posts to names the worker and the stream number, so no shared
//! table is looked up. A worker delivers to its own streams directly; to another worker's it
//! hands the message to that worker's inbox (a lock taken only on this delivery path, never on
//! the request path) and waits, bounded, for the acknowledgement that the stream was still open.

use crate::net::notify::WakerSlots;
use std::cell::{Cell, RefCell};
use std::collections::{HashMap, VecDeque};
use std::future::Future;
use std::pin::Pin;
use std::rc::Rc;
use std::sync::atomic::{AtomicU8, Ordering};
use std::sync::{Arc, Mutex};
use std::task::{Context, Poll, Waker};
use std::time::Duration;

/// Where a legacy client's stream lives.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct StreamRef {
    pub worker: u16,
    pub stream: u64,
}

impl StreamRef {
    /// `worker (2 bytes) | stream (8 bytes)`, sealed into the endpoint with the upstream target.
    pub fn encode(&self, out: &mut Vec<u8>) {
        out.extend_from_slice(&self.worker.to_be_bytes());
        out.extend_from_slice(&self.stream.to_be_bytes());
    }

    pub fn decode(bytes: &[u8]) -> Option<(StreamRef, &[u8])> {
        let worker = u16::from_be_bytes(bytes.get(..2)?.try_into().ok()?);
        let stream = u64::from_be_bytes(bytes.get(2..10)?.try_into().ok()?);
        Some((StreamRef { worker, stream }, &bytes[10..]))
    }
}

/// Whether a delivery reached its stream.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Delivered {
    Yes,
    /// The stream has closed (or its worker did not answer in time).
    StreamGone,
}

const PENDING: u8 = 0;
const DELIVERED: u8 = 1;
const GONE: u8 = 2;

struct Ack {
    state: AtomicU8,
    waker: Mutex<Option<Waker>>,
}

impl Ack {
    fn set(&self, state: u8) {
        self.state.store(state, Ordering::Release);
        let w = match self.waker.lock() {
            Ok(mut w) => w.take(),
            Err(p) => p.into_inner().take(),
        };
        if let Some(w) = w {
            w.wake();
        }
    }
}

struct AckWait(Arc<Ack>);

impl Future for AckWait {
    type Output = u8;
    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<u8> {
        let s = self.0.state.load(Ordering::Acquire);
        if s != PENDING {
            return Poll::Ready(s);
        }
        match self.0.waker.lock() {
            Ok(mut w) => *w = Some(cx.waker().clone()),
            Err(p) => *p.into_inner() = Some(cx.waker().clone()),
        }
        match self.0.state.load(Ordering::Acquire) {
            PENDING => Poll::Pending,
            s => Poll::Ready(s),
        }
    }
}

struct Delivery {
    stream: u64,
    body: Vec<u8>,
    ack: Arc<Ack>,
}

#[derive(Default)]
struct Inbox {
    items: Mutex<Vec<Delivery>>,
    waker: Mutex<Option<Waker>>,
}

/// Shared by all workers.
pub struct StreamBus {
    inboxes: Vec<Inbox>,
}

impl StreamBus {
    pub fn new(workers: usize) -> Arc<Self> {
        Arc::new(Self {
            inboxes: (0..workers).map(|_| Inbox::default()).collect(),
        })
    }
}

/// The messages waiting for one open stream, and the relay task parked on it.
#[derive(Default)]
pub struct Mailbox {
    queue: RefCell<VecDeque<Vec<u8>>>,
    slots: WakerSlots,
}

impl Mailbox {
    fn push(&self, body: Vec<u8>) {
        self.queue.borrow_mut().push_back(body);
        self.slots.wake_all();
    }

    /// The next waiting message, if any.
    pub fn pop(&self) -> Option<Vec<u8>> {
        self.queue.borrow_mut().pop_front()
    }

    /// Resolves when a message is waiting.
    pub fn ready(&self) -> MailReady<'_> {
        MailReady {
            mailbox: self,
            slot: None,
        }
    }
}

pub struct MailReady<'a> {
    mailbox: &'a Mailbox,
    slot: Option<usize>,
}

impl Future for MailReady<'_> {
    type Output = ();
    fn poll(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<()> {
        if !self.mailbox.queue.borrow().is_empty() {
            return Poll::Ready(());
        }
        let this = &mut *self;
        this.mailbox.slots.park(&mut this.slot, cx.waker());
        Poll::Pending
    }
}

impl Drop for MailReady<'_> {
    fn drop(&mut self) {
        self.mailbox.slots.release(self.slot.take());
    }
}

/// One worker's legacy streams.
pub struct LegacyStreams {
    bus: Arc<StreamBus>,
    worker: u16,
    next: Cell<u64>,
    open: RefCell<HashMap<u64, Rc<Mailbox>>>,
}

/// How long a POST waits for another worker to take its answer.
const ACK_TIMEOUT: Duration = Duration::from_secs(2);

impl LegacyStreams {
    pub fn new(bus: Arc<StreamBus>, worker: usize) -> Self {
        Self {
            bus,
            worker: u16::try_from(worker).unwrap_or(u16::MAX),
            next: Cell::new(1),
            open: RefCell::new(HashMap::new()),
        }
    }

    /// Registers a stream being relayed; it is open until the guard drops.
    pub fn open(self: &Rc<Self>) -> (StreamRef, Rc<Mailbox>, OpenStream) {
        let stream = self.next.get();
        self.next.set(stream + 1);
        let mailbox = Rc::new(Mailbox::default());
        self.open.borrow_mut().insert(stream, mailbox.clone());
        let r = StreamRef {
            worker: self.worker,
            stream,
        };
        (
            r,
            mailbox,
            OpenStream {
                streams: self.clone(),
                stream,
            },
        )
    }

    /// Puts `body` (one JSON-RPC message) on the stream `to`, on whichever worker holds it.
    pub async fn deliver(&self, to: StreamRef, body: Vec<u8>) -> Delivered {
        if to.worker == self.worker {
            return match self.open.borrow().get(&to.stream) {
                Some(m) => {
                    m.push(body);
                    Delivered::Yes
                }
                None => Delivered::StreamGone,
            };
        }
        let Some(inbox) = self.bus.inboxes.get(usize::from(to.worker)) else {
            return Delivered::StreamGone;
        };
        let ack = Arc::new(Ack {
            state: AtomicU8::new(PENDING),
            waker: Mutex::new(None),
        });
        match inbox.items.lock() {
            Ok(mut items) => items.push(Delivery {
                stream: to.stream,
                body,
                ack: ack.clone(),
            }),
            Err(_) => return Delivered::StreamGone,
        }
        let w = match inbox.waker.lock() {
            Ok(mut w) => w.take(),
            Err(p) => p.into_inner().take(),
        };
        if let Some(w) = w {
            w.wake();
        }
        match monoio::time::timeout(ACK_TIMEOUT, AckWait(ack)).await {
            Ok(DELIVERED) => Delivered::Yes,
            _ => Delivered::StreamGone,
        }
    }

    /// This worker's inbox task: hands other workers' deliveries to the local streams until
    /// `stop` resolves.
    pub async fn serve_inbox(&self, stop: impl Future<Output = ()>) {
        let mut stop = std::pin::pin!(stop);
        loop {
            monoio::select! {
                _ = &mut stop => return,
                items = InboxWait { inbox: self.inbox() } => {
                    for d in items {
                        let state = match self.open.borrow().get(&d.stream) {
                            Some(m) => {
                                m.push(d.body);
                                DELIVERED
                            }
                            None => GONE,
                        };
                        d.ack.set(state);
                    }
                }
            }
        }
    }

    fn inbox(&self) -> &Inbox {
        &self.bus.inboxes[usize::from(self.worker).min(self.bus.inboxes.len() - 1)]
    }
}

struct InboxWait<'a> {
    inbox: &'a Inbox,
}

impl Future for InboxWait<'_> {
    type Output = Vec<Delivery>;
    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Vec<Delivery>> {
        let take = |inbox: &Inbox| match inbox.items.lock() {
            Ok(mut items) => std::mem::take(&mut *items),
            Err(p) => std::mem::take(&mut *p.into_inner()),
        };
        let items = take(self.inbox);
        if !items.is_empty() {
            return Poll::Ready(items);
        }
        match self.inbox.waker.lock() {
            Ok(mut w) => *w = Some(cx.waker().clone()),
            Err(p) => *p.into_inner() = Some(cx.waker().clone()),
        }
        // A delivery pushed between the take and the park has no waker to wake: look again.
        let items = take(self.inbox);
        if items.is_empty() {
            Poll::Pending
        } else {
            Poll::Ready(items)
        }
    }
}

/// Closes a stream's mailbox when its relay ends, whatever way it ends.
pub struct OpenStream {
    streams: Rc<LegacyStreams>,
    stream: u64,
}

impl Drop for OpenStream {
    fn drop(&mut self) {
        self.streams.open.borrow_mut().remove(&self.stream);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn stream_refs_round_trip_with_their_target() {
        let r = StreamRef {
            worker: 3,
            stream: 0x0102_0304_0506_0708,
        };
        let mut b = Vec::new();
        r.encode(&mut b);
        b.extend_from_slice(b"/messages?sessionId=abc");
        let (back, rest) = StreamRef::decode(&b).unwrap();
        assert_eq!(back, r);
        assert_eq!(rest, b"/messages?sessionId=abc");
        assert!(StreamRef::decode(b"short").is_none());
    }

    #[test]
    fn local_delivery_needs_an_open_stream() {
        let mut rt = monoio::RuntimeBuilder::<monoio::LegacyDriver>::new()
            .enable_timer()
            .build()
            .unwrap();
        rt.block_on(async {
            let streams = Rc::new(LegacyStreams::new(StreamBus::new(1), 0));
            let (r, mailbox, guard) = streams.open();
            assert_eq!(streams.deliver(r, b"one".to_vec()).await, Delivered::Yes);
            assert_eq!(mailbox.pop().as_deref(), Some(&b"one"[..]));
            drop(guard);
            assert_eq!(
                streams.deliver(r, b"two".to_vec()).await,
                Delivered::StreamGone
            );
        });
    }

    #[test]
    fn another_workers_stream_is_reached_through_its_inbox() {
        let bus = StreamBus::new(2);
        let (tx, rx) = std::sync::mpsc::channel();
        let (stop_tx, stop_rx) = std::sync::mpsc::channel::<()>();
        let bus1 = bus.clone();
        // Worker 1 holds a stream and serves its inbox.
        let holder = std::thread::spawn(move || {
            let mut rt = monoio::RuntimeBuilder::<monoio::LegacyDriver>::new()
                .enable_timer()
                .build()
                .unwrap();
            rt.block_on(async move {
                let streams = Rc::new(LegacyStreams::new(bus1, 1));
                let (r, mailbox, _guard) = streams.open();
                tx.send(r).unwrap();
                let stop = async {
                    while stop_rx.try_recv().is_err() {
                        monoio::time::sleep(Duration::from_millis(5)).await;
                    }
                };
                streams.serve_inbox(stop).await;
                mailbox.pop()
            })
        });
        let r = rx.recv().unwrap();
        let mut rt = monoio::RuntimeBuilder::<monoio::LegacyDriver>::new()
            .enable_timer()
            .build()
            .unwrap();
        let sent = rt.block_on(async move {
            let streams = LegacyStreams::new(bus, 0);
            streams.deliver(r, b"hello".to_vec()).await
        });
        assert_eq!(sent, Delivered::Yes);
        stop_tx.send(()).unwrap();
        assert_eq!(holder.join().unwrap().as_deref(), Some(&b"hello"[..]));
    }
}
