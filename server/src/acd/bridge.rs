//! The telephony bridge: one AMI client per configured PBX, each feeding its own live ACD
//! model, published together as the board every dashboard watches. Implements the app's
//! `AcdBridge` (board + actions).

use std::sync::{Arc, Mutex};

use app::acd::bridge::{AcdBridge, ActionFuture, PbxAction};
use app::acd::{PbxLive, PbxState};
use app::db::now_ms;
use app::error::AppError;
use tokio::sync::{broadcast, watch};

use super::live::AcdModel;
use crate::pbx::ami::Message;
use crate::pbx::client::{ActionError, AmiClient, AmiConfig, BridgeEvent, ConnectionState};

/// At most this many events are applied before the board is published again, so a burst
/// cannot starve dashboards.
const BATCH: usize = 256;

struct Pbx {
    name: String,
    client: AmiClient,
    model: Mutex<AcdModel>,
}

#[derive(Clone)]
pub struct Bridge {
    pbx: Arc<Vec<Arc<Pbx>>>,
    /// The dialplan context click-to-call dials contacts in.
    dial_context: String,
    board: watch::Sender<Arc<Vec<PbxLive>>>,
}

impl Bridge {
    /// Connects to every PBX (in the background; reconnecting forever) and starts following.
    pub fn start(configs: Vec<(String, AmiConfig)>, dial_context: String) -> Bridge {
        let initial: Vec<PbxLive> = configs
            .iter()
            .map(|(name, _)| PbxLive { name: name.clone(), state: PbxState::Connecting, queues: vec![] })
            .collect();
        let (board, _) = watch::channel(Arc::new(initial));
        let pbx: Vec<Arc<Pbx>> = configs
            .into_iter()
            .map(|(name, config)| Arc::new(Pbx { name, client: AmiClient::start(config), model: Mutex::new(AcdModel::new()) }))
            .collect();
        let bridge = Bridge { pbx: Arc::new(pbx), dial_context, board };
        for (index, pbx) in bridge.pbx.iter().enumerate() {
            tokio::spawn(follow(pbx.clone(), index, bridge.board.clone()));
        }
        bridge
    }

    fn find(&self, name: &str) -> Option<(usize, Arc<Pbx>)> {
        self.pbx.iter().position(|p| p.name == name).map(|i| (i, self.pbx[i].clone()))
    }
}

impl AcdBridge for Bridge {
    fn pbx_names(&self) -> Vec<String> {
        self.pbx.iter().map(|p| p.name.clone()).collect()
    }

    fn board(&self) -> watch::Receiver<Arc<Vec<PbxLive>>> {
        self.board.subscribe()
    }

    fn act(&self, pbx: &str, action: PbxAction) -> ActionFuture {
        let found = self.find(pbx);
        let board = self.board.clone();
        let dial_context = self.dial_context.clone();
        Box::pin(async move {
            let (index, pbx) = found.ok_or(AppError::PbxNotConnected)?;
            let recording = match &action {
                PbxAction::RecordStart { channel, .. } => Some((channel.clone(), true)),
                PbxAction::RecordStop { channel } => Some((channel.clone(), false)),
                _ => None,
            };
            pbx.client.run(ami_action(action, &dial_context)).await.map_err(|error| match error {
                ActionError::Refused(message) => AppError::PbxRefused(message),
                other => {
                    tracing::warn!(pbx = %pbx.name, error = %other, "PBX action failed");
                    AppError::PbxNotConnected
                }
            })?;
            // Asterisk only tells the recording apart through the dialplan; Relais remembers
            // what it started until the channel hangs up.
            if let Some((channel, on)) = recording {
                pbx.model.lock().expect("model lock").set_recording(&channel, on);
                publish(&pbx, index, &board);
            }
            Ok(())
        })
    }
}

/// The AMI action for a checked dashboard action (fields as in the captures of a real Asterisk).
pub fn ami_action(action: PbxAction, dial_context: &str) -> Message {
    match action {
        PbxAction::QueueAdd { queue, interface, state_interface, member_name, penalty } => Message::new()
            .with("Action", "QueueAdd")
            .with("Queue", queue)
            .with("Interface", interface)
            .with("MemberName", member_name)
            .with("Penalty", penalty.to_string())
            .with("Paused", "false")
            .with("StateInterface", state_interface),
        PbxAction::QueueRemove { queue, interface } => {
            Message::new().with("Action", "QueueRemove").with("Queue", queue).with("Interface", interface)
        }
        PbxAction::QueuePause { queue, interface, paused, reason } => {
            let message = Message::new()
                .with("Action", "QueuePause")
                .with("Queue", queue)
                .with("Interface", interface)
                .with("Paused", if paused { "true" } else { "false" });
            if reason.is_empty() { message } else { message.with("Reason", reason) }
        }
        PbxAction::QueuePenalty { queue, interface, penalty } => Message::new()
            .with("Action", "QueuePenalty")
            .with("Interface", interface)
            .with("Penalty", penalty.to_string())
            .with("Queue", queue),
        PbxAction::Listen { supervisor_phone, target } => Message::new()
            .with("Action", "Originate")
            .with("Channel", supervisor_phone)
            .with("Application", "ChanSpy")
            .with("Data", format!("{target},q"))
            .with("Async", "true")
            .with("CallerID", "\"Supervision\" <spy>"),
        PbxAction::RecordStart { channel, file } => Message::new()
            .with("Action", "MixMonitor")
            .with("Channel", channel)
            .with("File", file)
            .with("Options", "b"),
        PbxAction::RecordStop { channel } => Message::new().with("Action", "StopMixMonitor").with("Channel", channel),
        PbxAction::Dial { agent_phone, number, caller_number, contact_name } => {
            let shown = if caller_number.is_empty() { number.clone() } else { caller_number };
            Message::new()
                .with("Action", "Originate")
                .with("Channel", agent_phone)
                .with("Context", dial_context)
                .with("Exten", number)
                .with("Priority", "1")
                .with("Timeout", "30000")
                .with("CallerID", format!("\"{}\" <{shown}>", contact_name.replace('"', "")))
                .with("Async", "true")
        }
    }
}

/// Follows one PBX: rebuilds the model on every (re)connect, applies events in batches and
/// publishes after each batch and on every change of connection state.
async fn follow(pbx: Arc<Pbx>, index: usize, board: watch::Sender<Arc<Vec<PbxLive>>>) {
    let mut events = pbx.client.subscribe();
    let mut state = pbx.client.state();
    if *state.borrow_and_update() == ConnectionState::Connected {
        rebuild(&pbx).await;
    }
    publish(&pbx, index, &board);
    loop {
        tokio::select! {
            event = events.recv() => {
                match event {
                    Ok(BridgeEvent::Connected) => rebuild(&pbx).await,
                    Ok(BridgeEvent::Event(first)) => {
                        let mut batch = vec![first];
                        let mut reconnected = false;
                        while batch.len() < BATCH {
                            match events.try_recv() {
                                Ok(BridgeEvent::Event(message)) => batch.push(message),
                                Ok(BridgeEvent::Connected) => {
                                    reconnected = true;
                                    break;
                                }
                                Err(_) => break,
                            }
                        }
                        {
                            let mut model = pbx.model.lock().expect("model lock");
                            for message in &batch {
                                model.apply(message, now_ms());
                            }
                        }
                        if reconnected {
                            rebuild(&pbx).await;
                        }
                    }
                    // Missed events: the model cannot be trusted, start again from the PBX.
                    Err(broadcast::error::RecvError::Lagged(missed)) => {
                        tracing::warn!(pbx = %pbx.name, missed, "live model fell behind; rebuilding");
                        rebuild(&pbx).await;
                    }
                    Err(broadcast::error::RecvError::Closed) => return,
                }
                publish(&pbx, index, &board);
            }
            changed = state.changed() => {
                if changed.is_err() {
                    return;
                }
                publish(&pbx, index, &board);
            }
        }
    }
}

/// Replaces the model with what the PBX reports now: queues (QueueStatus) and channels
/// (CoreShowChannels).
async fn rebuild(pbx: &Pbx) {
    let mut fresh = Vec::new();
    for action in ["QueueStatus", "CoreShowChannels"] {
        match pbx.client.run(Message::new().with("Action", action)).await {
            Ok(reply) => fresh.extend(reply.events),
            Err(error) => {
                tracing::warn!(pbx = %pbx.name, action, %error, "state rebuild failed");
                return;
            }
        }
    }
    let now = now_ms();
    let mut model = pbx.model.lock().expect("model lock");
    model.reset();
    for event in &fresh {
        model.apply(event, now);
    }
    tracing::info!(pbx = %pbx.name, events = fresh.len(), "live ACD state rebuilt");
}

fn publish(pbx: &Pbx, index: usize, board: &watch::Sender<Arc<Vec<PbxLive>>>) {
    let state = match &*pbx.client.state().borrow() {
        ConnectionState::Connecting => PbxState::Connecting,
        ConnectionState::Connected => PbxState::Connected,
        ConnectionState::Reconnecting { attempt, .. } => PbxState::from_attempts(*attempt),
    };
    let queues = if state == PbxState::Connected { pbx.model.lock().expect("model lock").queues() } else { vec![] };
    let live = PbxLive { name: pbx.name.clone(), state, queues };
    board.send_if_modified(|current| {
        if current.get(index) == Some(&live) {
            return false;
        }
        let mut next = (**current).clone();
        next[index] = live;
        *current = Arc::new(next);
        true
    });
}


#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn click_to_call_originates_from_the_agent_phone_into_the_dial_context() {
        let dial = PbxAction::Dial {
            agent_phone: "PJSIP/1001".into(),
            number: "+33612345678".into(),
            caller_number: "+33170000001".into(),
            contact_name: "Jean \"Jo\" Dupont".into(),
        };
        let message = ami_action(dial.clone(), "from-internal");
        let fields: Vec<(&str, &str)> = ["Action", "Channel", "Context", "Exten", "Priority", "CallerID", "Async"]
            .into_iter()
            .map(|key| (key, message.get(key).unwrap_or_default()))
            .collect();
        assert_eq!(
            fields,
            vec![
                ("Action", "Originate"),
                ("Channel", "PJSIP/1001"),
                ("Context", "from-internal"),
                ("Exten", "+33612345678"),
                ("Priority", "1"),
                ("CallerID", "\"Jean Jo Dupont\" <+33170000001>"),
                ("Async", "true"),
            ]
        );
        // Without a caller number of its own, the agent's phone shows the contact's number.
        let PbxAction::Dial { agent_phone, number, contact_name, .. } = dial else { unreachable!() };
        let plain = ami_action(PbxAction::Dial { agent_phone, number, caller_number: String::new(), contact_name }, "out");
        assert_eq!(plain.get("CallerID"), Some("\"Jean Jo Dupont\" <+33612345678>"));
    }
}
