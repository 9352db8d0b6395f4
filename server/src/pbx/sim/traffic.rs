//! Generated queue traffic: callers arrive (Poisson), wait, are rung to a free member (lowest
//! penalty, then the one idle longest), talk, and the member wraps up; callers who lose
//! patience abandon, those waiting too long time out. Idle members sometimes pause or place
//! calls of their own. Everything goes through `World`, which emits the events and files.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use rand::rngs::StdRng;
use rand::{Rng, SeedableRng};

use super::SimConfig;
use super::world::{Channel, Talk, World, now};

const TICK: Duration = Duration::from_millis(100);

/// Callers' names as a carrier delivers them: plain text, sometimes with characters a web
/// page must not take for markup.
const NAMES: &[&str] = &[
    "Client", "Dupont Marie", "Élise Garnier", "Martin & Fils", "Société <Durand>", "Jean-Pierre Lefèvre", "O'Brien",
];

enum Activity {
    Ringing { queue: String, caller: String, interface: String, channel: Channel, until: f64, answers: bool, since: f64 },
    Talking { talk: Talk, interface: String, until: f64 },
    WrapUp { until: f64 },
    Calling { channel: Channel, until: f64, answered_after: f64 },
}

struct Traffic {
    config: SimConfig,
    rng: StdRng,
    /// By device (state interface): one call at a time per phone.
    activity: HashMap<String, Activity>,
    /// When each waiting caller hangs up, by uniqueid.
    patience: HashMap<String, f64>,
    /// Pauses this generator took, by interface, and when they end.
    own_pauses: HashMap<String, f64>,
    next_arrival: f64,
    callers: u64,
}

pub async fn run(config: SimConfig, world: Arc<Mutex<World>>) {
    let mut traffic = Traffic {
        rng: StdRng::seed_from_u64(config.seed),
        activity: HashMap::new(),
        patience: HashMap::new(),
        own_pauses: HashMap::new(),
        next_arrival: now(),
        callers: 0,
        config,
    };
    traffic.next_arrival = now() + traffic.interarrival();
    let mut tick = tokio::time::interval(TICK);
    loop {
        tick.tick().await;
        let mut world = world.lock().expect("world lock");
        traffic.step(&mut world, now());
    }
}

impl Traffic {
    fn exponential(&mut self, mean: f64) -> f64 {
        let u: f64 = self.rng.r#gen();
        -mean * (1.0_f64 - u).ln()
    }

    fn interarrival(&mut self) -> f64 {
        if self.config.calls_per_minute <= 0.0 { f64::INFINITY } else { self.exponential(60.0 / self.config.calls_per_minute) }
    }

    fn chance(&mut self, per_hour: f64) -> bool {
        self.rng.r#gen::<f64>() < per_hour / 3600.0 * TICK.as_secs_f64()
    }

    fn step(&mut self, world: &mut World, at: f64) {
        self.arrivals(world, at);
        self.progress(world, at);
        self.impatience(world, at);
        self.dispatch(world, at);
        self.idle_life(world, at);
    }

    fn arrivals(&mut self, world: &mut World, at: f64) {
        let queues: Vec<String> = world.queues.keys().cloned().collect();
        while at >= self.next_arrival && !queues.is_empty() {
            self.callers += 1;
            let queue = queues[self.rng.gen_range(0..queues.len())].clone();
            let number = format!("06{:08}", self.rng.gen_range(0..100_000_000u32));
            let base = NAMES[self.rng.gen_range(0..NAMES.len())];
            let name = if base == "Client" { format!("Client {}", self.callers) } else { base.to_string() };
            if let Some(uniqueid) = world.caller_joins(&queue, &number, &name) {
                let patience = self.exponential(self.config.patience_secs).max(3.0);
                self.patience.insert(uniqueid, at + patience);
            }
            self.next_arrival += self.interarrival();
        }
    }

    /// Rings end (answer or not), calls end, wrap-ups end, placed calls end.
    fn progress(&mut self, world: &mut World, at: f64) {
        let due: Vec<String> = self
            .activity
            .iter()
            .filter(|(_, a)| match a {
                Activity::Ringing { until, .. }
                | Activity::Talking { until, .. }
                | Activity::WrapUp { until }
                | Activity::Calling { until, .. } => *until <= at,
            })
            .map(|(device, _)| device.clone())
            .collect();
        for device in due {
            match self.activity.remove(&device).expect("due activity") {
                Activity::Ringing { queue, caller, interface, channel, answers, since, .. } => {
                    let ring_secs = (at - since).max(0.0) as u64;
                    let still_there = world.queues.get(&queue).is_some_and(|q| q.callers.iter().any(|c| c.channel.uniqueid == caller));
                    if !still_there || world.find_member(&queue, &interface).is_none() {
                        world.hangup(&channel.uniqueid);
                        world.set_device(&device, 1, false);
                    } else if answers {
                        if let Some(talk) = world.agent_connects(&queue, &caller, &interface, &channel, ring_secs) {
                            self.patience.remove(&caller);
                            let length = self.exponential(self.config.talk_secs).max(5.0);
                            self.activity.insert(device, Activity::Talking { talk, interface, until: at + length });
                        }
                    } else {
                        world.ring_no_answer(&queue, &caller, &interface, &channel, (ring_secs * 1000).max(1000));
                    }
                }
                Activity::Talking { talk, interface, .. } => {
                    let by_caller = self.rng.gen_bool(0.6);
                    world.complete(&talk, &interface, by_caller);
                    let wrapup = self.config.wrapup_secs as f64;
                    if wrapup > 0.0 {
                        self.activity.insert(device, Activity::WrapUp { until: at + wrapup });
                    }
                }
                Activity::WrapUp { .. } => {}
                Activity::Calling { channel, answered_after, .. } => world.end_placed_call(&device, &channel, answered_after),
            }
        }
    }

    fn impatience(&mut self, world: &mut World, at: f64) {
        let max_wait = self.config.max_wait_secs as f64;
        let mut leaving = Vec::new();
        for (queue, q) in &world.queues {
            for caller in &q.callers {
                let uniqueid = &caller.channel.uniqueid;
                if self.patience.get(uniqueid).is_some_and(|until| *until <= at) {
                    leaving.push((queue.clone(), uniqueid.clone(), true));
                } else if max_wait > 0.0 && at - caller.joined_at >= max_wait {
                    leaving.push((queue.clone(), uniqueid.clone(), false));
                }
            }
        }
        for (queue, uniqueid, abandons) in leaving {
            self.patience.remove(&uniqueid);
            if abandons { world.abandon(&queue, &uniqueid) } else { world.timeout(&queue, &uniqueid) }
        }
    }

    /// Rings a free member for each waiting caller not already ringing someone.
    fn dispatch(&mut self, world: &mut World, at: f64) {
        let ringing: Vec<String> = self
            .activity
            .values()
            .filter_map(|a| match a {
                Activity::Ringing { caller, .. } => Some(caller.clone()),
                _ => None,
            })
            .collect();
        let mut plans = Vec::new();
        for (queue, q) in &world.queues {
            for caller in q.callers.iter().filter(|c| !ringing.contains(&c.channel.uniqueid)) {
                let free = q
                    .members
                    .iter()
                    .filter(|m| !m.paused && m.status == 1 && !self.activity.contains_key(&m.state_interface))
                    .filter(|m| !plans.iter().any(|(_, _, device, _): &(String, String, String, String)| *device == m.state_interface))
                    .min_by_key(|m| (m.penalty, m.last_call));
                if let Some(member) = free {
                    plans.push((queue.clone(), caller.channel.uniqueid.clone(), member.state_interface.clone(), member.interface.clone()));
                }
            }
        }
        for (queue, caller, device, interface) in plans {
            if let Some(channel) = world.agent_called(&queue, &caller, &interface) {
                let ring = self.rng.gen_range(1.0..4.0);
                let answers = self.rng.r#gen::<f64>() >= self.config.no_answer_ratio;
                self.activity.insert(device, Activity::Ringing { queue, caller, interface, channel, until: at + ring, answers, since: at });
            }
        }
    }

    /// Idle members sometimes pause, come back, or place a call.
    fn idle_life(&mut self, world: &mut World, at: f64) {
        let ended: Vec<String> = self.own_pauses.iter().filter(|(_, until)| **until <= at).map(|(i, _)| i.clone()).collect();
        for interface in ended {
            self.own_pauses.remove(&interface);
            let _ = world.pause(None, &interface, false, "");
        }
        let idle: Vec<(String, String, String)> = world
            .queues
            .values()
            .flat_map(|q| &q.members)
            .filter(|m| !m.paused && m.status == 1 && !self.activity.contains_key(&m.state_interface))
            .map(|m| (m.interface.clone(), m.state_interface.clone(), m.name.clone()))
            .collect();
        for (interface, device, name) in idle {
            if self.activity.contains_key(&device) || self.own_pauses.contains_key(&interface) {
                continue;
            }
            if self.chance(self.config.pauses_per_agent_hour) {
                let reason = ["lunch", "break", "training"][self.rng.gen_range(0..3)];
                if world.pause(None, &interface, true, reason).is_ok() {
                    let length = self.rng.gen_range(60.0..300.0);
                    self.own_pauses.insert(interface, at + length);
                }
            } else if self.chance(self.config.outbound_per_agent_hour) {
                let number = format!("01{:08}", self.rng.gen_range(0..100_000_000u32));
                let channel = world.place_call(&device, &name, &number);
                let length = self.rng.gen_range(20.0..120.0);
                let answered_after = self.rng.gen_range(3.0..10.0);
                self.activity.insert(device, Activity::Calling { channel, until: at + length, answered_after });
            }
        }
    }
}
