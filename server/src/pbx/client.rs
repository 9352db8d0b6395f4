//! AMI client: one long-lived connection to one Asterisk, shared by every caller.
//!
//! - Actions are correlated by `ActionID` (never by order), so any number can be in flight.
//! - A response opening an event list (`EventList: start`) is completed only by its
//!   `...Complete` event; the caller gets the response and the list's events together.
//! - Events that answer no pending action are broadcast to subscribers (the live ACD model).
//! - The connection is kept alive with `Ping`; on any failure it reconnects with exponential
//!   backoff, and after every (re)connect subscribers receive `BridgeEvent::Connected` so they
//!   rebuild their state from `QueueStatus` / `CoreShowChannels` instead of trusting events
//!   missed while disconnected.

use std::collections::HashMap;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;

use futures::{SinkExt, StreamExt};
use tokio::net::TcpStream;
use tokio::sync::{broadcast, mpsc, oneshot, watch};
use tokio_util::codec::Framed;

use super::ami::{AmiCodec, Frame, Kind, Message};

#[derive(Clone, Debug)]
pub struct AmiConfig {
    /// Host and port of the manager interface (Asterisk's default port is 5038).
    pub address: String,
    pub username: String,
    pub secret: String,
    /// How long an action may wait for its response (and its event list).
    pub action_timeout: Duration,
    pub ping_interval: Duration,
    pub max_backoff: Duration,
}

impl AmiConfig {
    pub fn new(address: impl Into<String>, username: impl Into<String>, secret: impl Into<String>) -> Self {
        AmiConfig {
            address: address.into(),
            username: username.into(),
            secret: secret.into(),
            action_timeout: Duration::from_secs(10),
            ping_interval: Duration::from_secs(20),
            max_backoff: Duration::from_secs(30),
        }
    }
}

/// What the connection looks like to supervisors.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum ConnectionState {
    Connecting,
    Connected,
    /// Lost or refused; retrying. `attempt` counts failures since the last success.
    Reconnecting { attempt: u32, reason: String },
}

#[derive(Clone, Debug)]
pub enum BridgeEvent {
    /// A (re)connection completed: state built from earlier events is stale.
    Connected,
    Event(Arc<Message>),
}

/// A response, with the events of its list when it opened one.
#[derive(Clone, Debug)]
pub struct Reply {
    pub response: Message,
    pub events: Vec<Message>,
}

impl Reply {
    pub fn is_success(&self) -> bool {
        self.response.get("Response").is_some_and(|r| r.eq_ignore_ascii_case("success") || r.eq_ignore_ascii_case("follows"))
    }
}

#[derive(Debug, Clone, thiserror::Error, PartialEq, Eq)]
pub enum ActionError {
    #[error("the PBX is not connected")]
    NotConnected,
    #[error("the PBX did not answer in time")]
    Timeout,
    #[error("the connection to the PBX was lost")]
    ConnectionLost,
    #[error("the PBX refused the action: {0}")]
    Refused(String),
}

struct Request {
    action: Message,
    reply: oneshot::Sender<Result<Reply, ActionError>>,
}

/// Cheap to clone; every clone talks to the same connection.
#[derive(Clone)]
pub struct AmiClient {
    requests: mpsc::Sender<Request>,
    events: broadcast::Sender<BridgeEvent>,
    state: watch::Receiver<ConnectionState>,
    next_id: Arc<AtomicU64>,
    timeout: Duration,
}

impl AmiClient {
    /// Starts the connection task; it runs until every clone of the client is dropped.
    pub fn start(config: AmiConfig) -> AmiClient {
        let (requests, request_rx) = mpsc::channel(256);
        let (events, _) = broadcast::channel(4096);
        let (state_tx, state) = watch::channel(ConnectionState::Connecting);
        let timeout = config.action_timeout;
        tokio::spawn(run(config, request_rx, events.clone(), state_tx));
        AmiClient { requests, events, state, next_id: Arc::new(AtomicU64::new(1)), timeout }
    }

    pub fn subscribe(&self) -> broadcast::Receiver<BridgeEvent> {
        self.events.subscribe()
    }

    pub fn state(&self) -> watch::Receiver<ConnectionState> {
        self.state.clone()
    }

    /// Sends an action (its `ActionID` is set here) and waits for its reply.
    pub async fn send(&self, action: Message) -> Result<Reply, ActionError> {
        let id = format!("relais-{}", self.next_id.fetch_add(1, Ordering::Relaxed));
        let action = action.with("ActionID", id);
        let (reply, wait) = oneshot::channel();
        self.requests.send(Request { action, reply }).await.map_err(|_| ActionError::NotConnected)?;
        match tokio::time::timeout(self.timeout, wait).await {
            Ok(Ok(result)) => result,
            Ok(Err(_)) => Err(ActionError::ConnectionLost),
            Err(_) => Err(ActionError::Timeout),
        }
    }

    /// Like `send`, but an `Error` response becomes `ActionError::Refused` with its message.
    pub async fn run(&self, action: Message) -> Result<Reply, ActionError> {
        let reply = self.send(action).await?;
        if reply.is_success() {
            Ok(reply)
        } else {
            Err(ActionError::Refused(reply.response.get("Message").unwrap_or("error").to_string()))
        }
    }
}

struct Pending {
    reply: oneshot::Sender<Result<Reply, ActionError>>,
    /// Set once the response arrived and opened an event list.
    list: Option<Reply>,
}

async fn run(
    config: AmiConfig,
    mut requests: mpsc::Receiver<Request>,
    events: broadcast::Sender<BridgeEvent>,
    state: watch::Sender<ConnectionState>,
) {
    let mut attempt: u32 = 0;
    loop {
        let outcome = session(&config, &mut requests, &events, &state).await;
        let reason = match outcome {
            SessionEnd::ClientGone => return,
            SessionEnd::Failed { reason, was_connected } => {
                if was_connected {
                    attempt = 0;
                }
                reason
            }
        };
        attempt += 1;
        tracing::warn!(address = %config.address, attempt, %reason, "AMI connection lost; reconnecting");
        let _ = state.send(ConnectionState::Reconnecting { attempt, reason });
        let backoff = Duration::from_millis(250u64.saturating_mul(1 << attempt.min(8))).min(config.max_backoff);
        // Actions sent while disconnected fail at once rather than wait for a reconnect.
        let sleep = tokio::time::sleep(backoff);
        tokio::pin!(sleep);
        loop {
            tokio::select! {
                _ = &mut sleep => break,
                request = requests.recv() => match request {
                    Some(request) => { let _ = request.reply.send(Err(ActionError::NotConnected)); }
                    None => return,
                },
            }
        }
    }
}

enum SessionEnd {
    ClientGone,
    Failed { reason: String, was_connected: bool },
}

async fn session(
    config: &AmiConfig,
    requests: &mut mpsc::Receiver<Request>,
    events: &broadcast::Sender<BridgeEvent>,
    state: &watch::Sender<ConnectionState>,
) -> SessionEnd {
    let failed = |reason: String| SessionEnd::Failed { reason, was_connected: false };
    let stream = match tokio::time::timeout(config.action_timeout, TcpStream::connect(&config.address)).await {
        Ok(Ok(stream)) => stream,
        Ok(Err(error)) => return failed(error.to_string()),
        Err(_) => return failed("connection timed out".into()),
    };
    let _ = stream.set_nodelay(true);
    let mut framed = Framed::new(stream, AmiCodec::new());
    match tokio::time::timeout(config.action_timeout, framed.next()).await {
        Ok(Some(Ok(Frame::Banner(_)))) => {}
        _ => return failed("no manager banner".into()),
    }
    let login = Message::new()
        .with("Action", "Login")
        .with("ActionID", "relais-login")
        .with("Username", config.username.clone())
        .with("Secret", config.secret.clone())
        .with("Events", "on");
    if let Err(error) = framed.send(login).await {
        return failed(error.to_string());
    }
    loop {
        match tokio::time::timeout(config.action_timeout, framed.next()).await {
            Ok(Some(Ok(Frame::Message(m)))) if m.action_id() == Some("relais-login") => {
                if m.get("Response").is_some_and(|r| r.eq_ignore_ascii_case("success")) {
                    break;
                }
                return failed(format!("login refused: {}", m.get("Message").unwrap_or("")));
            }
            Ok(Some(Ok(_))) => continue,
            _ => return failed("no answer to login".into()),
        }
    }
    tracing::info!(address = %config.address, "AMI connected");
    let _ = state.send(ConnectionState::Connected);
    let _ = events.send(BridgeEvent::Connected);

    // Only this loop touches the actions in flight: no lock needed.
    let mut pending: HashMap<String, Pending> = HashMap::new();
    let (mut sink, mut stream) = framed.split();
    let mut ping = tokio::time::interval(config.ping_interval);
    ping.tick().await;
    let mut ping_outstanding = false;
    let end = loop {
        tokio::select! {
            request = requests.recv() => {
                let Some(request) = request else { break SessionEnd::ClientGone };
                let id = request.action.action_id().unwrap_or_default().to_string();
                pending.insert(id, Pending { reply: request.reply, list: None });
                if let Err(error) = sink.send(request.action).await {
                    break SessionEnd::Failed { reason: error.to_string(), was_connected: true };
                }
            }
            frame = stream.next() => match frame {
                Some(Ok(Frame::Message(message))) => {
                    if message.action_id() == Some("relais-ping") {
                        ping_outstanding = false;
                        continue;
                    }
                    dispatch(message, &mut pending, events);
                }
                Some(Ok(Frame::Banner(_))) => {}
                Some(Err(error)) => break SessionEnd::Failed { reason: error.to_string(), was_connected: true },
                None => break SessionEnd::Failed { reason: "closed by the PBX".into(), was_connected: true },
            },
            _ = ping.tick() => {
                if ping_outstanding {
                    break SessionEnd::Failed { reason: "no answer to keep-alive".into(), was_connected: true };
                }
                ping_outstanding = true;
                let ping = Message::new().with("Action", "Ping").with("ActionID", "relais-ping");
                if let Err(error) = sink.send(ping).await {
                    break SessionEnd::Failed { reason: error.to_string(), was_connected: true };
                }
            }
        }
    };
    // Whatever was in flight will not be answered on this connection.
    for (_, waiting) in pending.drain() {
        let _ = waiting.reply.send(Err(ActionError::ConnectionLost));
    }
    end
}

/// Routes one message: to the action it answers, to the list it belongs to, or to subscribers.
fn dispatch(message: Message, pending: &mut HashMap<String, Pending>, events: &broadcast::Sender<BridgeEvent>) {
    let Some(id) = message.action_id().map(str::to_string) else {
        let _ = events.send(BridgeEvent::Event(Arc::new(message)));
        return;
    };
    match (message.kind(), pending.get_mut(&id)) {
        (Kind::Response, Some(waiting)) if message.starts_event_list() => {
            waiting.list = Some(Reply { response: message, events: Vec::new() });
        }
        (Kind::Response, Some(_)) => {
            if let Some(waiting) = pending.remove(&id) {
                let _ = waiting.reply.send(Ok(Reply { response: message, events: Vec::new() }));
            }
        }
        (Kind::Event, Some(Pending { list: Some(list), .. })) => {
            if message.completes_event_list() {
                let mut waiting = pending.remove(&id).expect("present");
                let mut reply = waiting.list.take().expect("list");
                reply.events.push(message);
                let _ = waiting.reply.send(Ok(reply));
            } else {
                list.events.push(message);
            }
        }
        _ => {
            let _ = events.send(BridgeEvent::Event(Arc::new(message)));
        }
    }
}

#[cfg(test)]
mod tests {
    use tokio::net::TcpListener;

    use super::*;

    fn config(address: String) -> AmiConfig {
        AmiConfig {
            action_timeout: Duration::from_secs(5),
            ping_interval: Duration::from_secs(60),
            max_backoff: Duration::from_millis(200),
            ..AmiConfig::new(address, "relais", "secret")
        }
    }

    type Peer = Framed<TcpStream, AmiCodec>;

    /// Accepts one connection, sends the banner and accepts the login.
    async fn accept(listener: &TcpListener) -> Peer {
        let (stream, _) = listener.accept().await.unwrap();
        let mut peer = Framed::new(stream, AmiCodec::without_banner());
        peer.get_mut().try_write(b"Asterisk Call Manager/13.0.0\r\n").unwrap();
        let Some(Ok(Frame::Message(login))) = peer.next().await else { panic!("no login") };
        assert_eq!(login.get("Action"), Some("Login"));
        assert_eq!(login.get("Secret"), Some("secret"));
        let ok = Message::new().with("Response", "Success").with("ActionID", login.action_id().unwrap()).with("Message", "Authentication accepted");
        peer.send(ok).await.unwrap();
        peer
    }

    async fn next_action(peer: &mut Peer) -> Message {
        loop {
            if let Some(Ok(Frame::Message(m))) = peer.next().await {
                if m.get("Action") != Some("Ping") {
                    return m;
                }
            }
        }
    }

    async fn listener() -> (TcpListener, String) {
        let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
        let address = listener.local_addr().unwrap().to_string();
        (listener, address)
    }

    #[tokio::test]
    async fn replies_are_matched_by_action_id_not_by_order() {
        let (listener, address) = listener().await;
        let client = AmiClient::start(config(address));
        let server = tokio::spawn(async move {
            let mut peer = accept(&listener).await;
            let mut actions = Vec::new();
            for _ in 0..20 {
                actions.push(next_action(&mut peer).await);
            }
            // Answer the last first.
            for action in actions.iter().rev() {
                let reply = Message::new()
                    .with("Response", "Success")
                    .with("ActionID", action.action_id().unwrap())
                    .with("Message", action.get("Queue").unwrap());
                peer.send(reply).await.unwrap();
            }
            peer
        });
        let calls = (0..20).map(|n| {
            let client = client.clone();
            async move {
                let reply = client.run(Message::new().with("Action", "QueueSummary").with("Queue", format!("q{n}"))).await.unwrap();
                (n, reply.response.get("Message").unwrap().to_string())
            }
        });
        for (n, answer) in futures::future::join_all(calls).await {
            assert_eq!(answer, format!("q{n}"));
        }
        drop(server);
    }

    #[tokio::test]
    async fn event_lists_are_collected_and_other_events_broadcast() {
        let (listener, address) = listener().await;
        let client = AmiClient::start(config(address));
        let mut events = client.subscribe();
        let server = tokio::spawn(async move {
            let mut peer = accept(&listener).await;
            let action = next_action(&mut peer).await;
            let id = action.action_id().unwrap().to_string();
            let list = [
                Message::new().with("Response", "Success").with("ActionID", &id).with("EventList", "start"),
                Message::new().with("Event", "QueueParams").with("Queue", "support").with("ActionID", &id),
                Message::new().with("Event", "QueueCallerJoin").with("Queue", "support").with("Uniqueid", "1.1"),
                Message::new().with("Event", "QueueMember").with("Queue", "support").with("ActionID", &id),
                Message::new().with("Event", "QueueStatusComplete").with("ActionID", &id).with("EventList", "Complete"),
            ];
            for message in list {
                peer.send(message).await.unwrap();
            }
            peer
        });
        let reply = client.run(Message::new().with("Action", "QueueStatus")).await.unwrap();
        let names: Vec<&str> = reply.events.iter().filter_map(|e| e.event()).collect();
        assert_eq!(names, vec!["QueueParams", "QueueMember", "QueueStatusComplete"]);
        let mut live = Vec::new();
        while let Ok(Ok(event)) = tokio::time::timeout(Duration::from_millis(300), events.recv()).await {
            if let BridgeEvent::Event(e) = event {
                live.push(e.event().unwrap().to_string());
            }
        }
        assert_eq!(live, vec!["QueueCallerJoin"]);
        drop(server);
    }

    #[tokio::test]
    async fn reconnects_after_the_pbx_drops_and_fails_what_was_in_flight() {
        let (listener, address) = listener().await;
        let client = AmiClient::start(config(address));
        let mut events = client.subscribe();
        let mut state = client.state();
        let server = tokio::spawn(async move {
            let mut first = accept(&listener).await;
            let _ = next_action(&mut first).await;
            drop(first); // dies with the action unanswered
            let mut second = accept(&listener).await;
            let action = next_action(&mut second).await;
            let reply = Message::new().with("Response", "Success").with("ActionID", action.action_id().unwrap()).with("AMIversion", "13.0.0");
            second.send(reply).await.unwrap();
            second
        });
        assert!(matches!(events.recv().await.unwrap(), BridgeEvent::Connected));
        let lost = client.send(Message::new().with("Action", "CoreShowChannels")).await;
        assert_eq!(lost.unwrap_err(), ActionError::ConnectionLost);
        state.wait_for(|s| matches!(s, ConnectionState::Reconnecting { .. })).await.unwrap();
        assert!(matches!(events.recv().await.unwrap(), BridgeEvent::Connected), "a rebuild is asked for");
        state.wait_for(|s| *s == ConnectionState::Connected).await.unwrap();
        let reply = client.run(Message::new().with("Action", "CoreSettings")).await.unwrap();
        assert_eq!(reply.response.get("AMIversion"), Some("13.0.0"));
        drop(server);
    }

    #[tokio::test]
    async fn a_refused_login_is_reported_and_actions_fail_fast() {
        let (listener, address) = listener().await;
        let client = AmiClient::start(config(address));
        let server = tokio::spawn(async move {
            loop {
                let (stream, _) = listener.accept().await.unwrap();
                let mut peer = Framed::new(stream, AmiCodec::without_banner());
                peer.get_mut().try_write(b"Asterisk Call Manager/13.0.0\r\n").unwrap();
                if let Some(Ok(Frame::Message(login))) = peer.next().await {
                    let no = Message::new().with("Response", "Error").with("ActionID", login.action_id().unwrap()).with("Message", "Authentication failed");
                    let _ = peer.send(no).await;
                }
            }
        });
        let mut state = client.state();
        let seen = state.wait_for(|s| matches!(s, ConnectionState::Reconnecting { .. })).await.unwrap().clone();
        let ConnectionState::Reconnecting { reason, .. } = seen else { unreachable!() };
        assert!(reason.contains("Authentication failed"), "{reason}");
        let started = tokio::time::Instant::now();
        assert_eq!(client.send(Message::new().with("Action", "Ping")).await.unwrap_err(), ActionError::NotConnected);
        assert!(started.elapsed() < Duration::from_secs(1));
        server.abort();
    }
}
