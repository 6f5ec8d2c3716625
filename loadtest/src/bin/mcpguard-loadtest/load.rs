//! The per-connection request loops: closed loop (next request when the previous answer is
//! complete) and open loop (a fixed send schedule, latency measured from the intended send time
//! so a stalled server shows up as latency rather than as a quietly lower rate).

use crate::client::Client;
use crate::exchange::Response;
use crate::outcome::Outcome;
use crate::plan::Draw;
use crate::stats::{Live, Record, Stats};
use std::cell::RefCell;
use std::rc::Rc;
use std::sync::Arc;
use std::time::{Duration, Instant};

/// The run's time line: warm-up from `start`, measurement from `measure_from` until `end`.
/// monoio's timer resolution.
const TIMER_TICK: Duration = Duration::from_millis(1);

#[derive(Clone, Copy)]
pub struct Window {
    pub start: Instant,
    pub measure_from: Instant,
    pub end: Instant,
}

pub struct Ctx {
    pub stats: Rc<RefCell<Stats>>,
    pub live: Arc<Live>,
    pub window: Window,
}

impl Ctx {
    /// Books one finished request; `base` is when it was sent.
    fn finish(&self, client: &Client, draw: &Draw, base: Instant, resp: &Response) {
        self.finish_at(client, draw, base, base, resp);
    }

    /// `scheduled` decides warm-up or measured; latency runs from `base`.
    fn finish_at(
        &self,
        client: &Client,
        draw: &Draw,
        scheduled: Instant,
        base: Instant,
        resp: &Response,
    ) {
        let measured = scheduled >= self.window.measure_from;
        self.live.finished(measured && resp.outcome != Outcome::Ok);
        if !measured {
            return;
        }
        let since = |t: Instant| t.saturating_duration_since(base);
        let sse = resp.first_event.map(|f| (since(f), since(resp.done)));
        let stats = &mut *self.stats.borrow_mut();
        let method = stats_method_name(client, draw);
        stats.record(Record {
            method,
            outcome: resp.outcome,
            attack: draw.attack,
            latency: since(resp.done),
            sse,
        });
    }
}

fn stats_method_name<'a>(client: &'a Client, draw: &Draw) -> &'a str {
    client.plan().step_name(&draw.step)
}

pub async fn closed_loop(mut client: Client, ctx: Ctx) {
    loop {
        let sent_at = Instant::now();
        if sent_at >= ctx.window.end {
            break;
        }
        let draw = client.draw();
        let resp = client.run(&draw).await;
        ctx.finish(&client, &draw, sent_at, &resp);
    }
}

/// `interval` between this connection's sends; `phase` staggers connections inside one interval
/// so they do not all fire at the same instant.
pub async fn open_loop(mut client: Client, ctx: Ctx, interval: Duration, phase: Duration) {
    let first = ctx.window.start + phase;
    let mut k: u32 = 0;
    loop {
        let intended = first + interval.saturating_mul(k);
        if intended >= ctx.window.end {
            return;
        }
        let now = Instant::now();
        if now >= ctx.window.end {
            // Still busy when the run ended: count the measured sends that never went out.
            let mut missed = 0u64;
            let mut t = intended;
            while t < ctx.window.end {
                if t >= ctx.window.measure_from {
                    missed += 1;
                }
                k = k.saturating_add(1);
                t = first + interval.saturating_mul(k);
                if k == u32::MAX {
                    break;
                }
            }
            ctx.stats.borrow_mut().missed += missed;
            return;
        }
        // The timer wheel ticks in milliseconds and rounds up, so aim one tick early: a request
        // that then goes out early is measured from its actual send, a late one from its
        // intended time (the coordinated-omission correction).
        if intended > now + TIMER_TICK {
            monoio::time::sleep(intended - now - TIMER_TICK).await;
        }
        let draw = client.draw();
        let base = Instant::now().min(intended);
        let resp = client.run(&draw).await;
        ctx.finish_at(&client, &draw, intended, base, &resp);
        k = k.saturating_add(1);
        if k == u32::MAX {
            return;
        }
    }
}
