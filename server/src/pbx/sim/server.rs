//! The simulator's manager interface: one task per connection, reading actions with the same
//! codec Relais uses and answering as Asterisk does (banner, `Authentication accepted`, event
//! lists closed by `...Complete`, error messages word for word).

use std::sync::{Arc, Mutex};
use std::time::Duration;

use futures::{SinkExt, StreamExt};
use tokio::net::{TcpListener, TcpStream};
use tokio::sync::broadcast;
use tokio_util::codec::Framed;

use super::SimConfig;
use super::world::{World, channel_fields, now};
use crate::pbx::ami::{AmiCodec, Frame, Message};

pub const BANNER: &str = "Asterisk Call Manager/13.0.0\r\n";

pub async fn serve(listener: TcpListener, config: SimConfig, world: Arc<Mutex<World>>, events: broadcast::Sender<Arc<Message>>) {
    loop {
        match listener.accept().await {
            Ok((stream, peer)) => {
                let (config, world, events) = (config.clone(), world.clone(), events.subscribe());
                tokio::spawn(async move {
                    if let Err(error) = session(stream, config, world, events).await {
                        tracing::debug!(%peer, %error, "simulator AMI session ended");
                    }
                });
            }
            Err(error) => {
                tracing::warn!(%error, "simulator cannot accept");
                tokio::time::sleep(Duration::from_millis(100)).await;
            }
        }
    }
}

async fn session(
    mut stream: TcpStream,
    config: SimConfig,
    world: Arc<Mutex<World>>,
    mut events: broadcast::Receiver<Arc<Message>>,
) -> anyhow::Result<()> {
    use tokio::io::AsyncWriteExt;
    stream.write_all(BANNER.as_bytes()).await?;
    let mut wire = Framed::new(stream, AmiCodec::without_banner());
    let mut logged_in = false;
    let mut wants_events = true;
    loop {
        tokio::select! {
            frame = wire.next() => {
                let Some(frame) = frame else { return Ok(()) };
                let Frame::Message(action) = frame? else { continue };
                let id = action.action_id().map(str::to_string);
                let name = action.get("Action").unwrap_or_default().to_ascii_lowercase();
                if !logged_in && name != "login" && name != "logoff" {
                    wire.send(response(&id, "Error").with("Message", "Permission denied")).await?;
                    continue;
                }
                match name.as_str() {
                    "login" => {
                        let good = action.get("Username") == Some(config.username.as_str())
                            && action.get("Secret") == Some(config.secret.as_str());
                        if !good {
                            wire.send(response(&id, "Error").with("Message", "Authentication failed")).await?;
                            return Ok(());
                        }
                        logged_in = true;
                        wants_events = !action.get("Events").is_some_and(|e| e.eq_ignore_ascii_case("off"));
                        wire.send(response(&id, "Success").with("Message", "Authentication accepted")).await?;
                        if wants_events {
                            wire.send(
                                Message::new()
                                    .with("Event", "FullyBooted")
                                    .with("Privilege", "system,all")
                                    .with("Uptime", "7")
                                    .with("LastReload", "7")
                                    .with("Status", "Fully Booted"),
                            )
                            .await?;
                        }
                    }
                    "logoff" => {
                        wire.send(response(&id, "Goodbye").with("Message", "Thanks for all the fish.")).await?;
                        return Ok(());
                    }
                    _ => {
                        let replies = answer(&name, &action, &id, &world);
                        for reply in replies {
                            wire.send(reply).await?;
                        }
                    }
                }
            }
            event = events.recv(), if logged_in && wants_events => {
                match event {
                    Ok(event) => wire.send((*event).clone()).await?,
                    // A slow reader misses events, as with a real Asterisk.
                    Err(broadcast::error::RecvError::Lagged(_)) => {}
                    Err(broadcast::error::RecvError::Closed) => return Ok(()),
                }
            }
        }
    }
}

fn response(id: &Option<String>, kind: &str) -> Message {
    let message = Message::new().with("Response", kind);
    match id {
        Some(id) => message.with("ActionID", id.clone()),
        None => message,
    }
}

fn truthy(value: Option<&str>) -> bool {
    value.is_some_and(|v| matches!(v.trim().to_ascii_lowercase().as_str(), "true" | "yes" | "1" | "on"))
}

/// Answers one action; list actions return the response, the list and its Complete event.
fn answer(name: &str, action: &Message, id: &Option<String>, world: &Arc<Mutex<World>>) -> Vec<Message> {
    let mut world = world.lock().expect("world lock");
    let action_id = id.clone().unwrap_or_default();
    let result = |outcome: Result<(), String>, ok: &str| match outcome {
        Ok(()) => vec![response(id, "Success").with("Message", ok)],
        Err(message) => vec![response(id, "Error").with("Message", message)],
    };
    let queue = action.get("Queue").filter(|q| !q.is_empty());
    let interface = action.get("Interface").unwrap_or_default();
    match name {
        "ping" => vec![response(id, "Success").with("Ping", "Pong").with("Timestamp", format!("{:.6}", now()))],
        "queuestatus" => list(id, "Queue status will follow", world.queue_status(queue, &action_id), "QueueStatusComplete"),
        "coreshowchannels" => list(id, "Channels will follow", world.core_show_channels(&action_id), "CoreShowChannelsComplete"),
        "queueadd" => {
            let Some(queue) = queue else { return vec![response(id, "Error").with("Message", "'Queue' not specified.")] };
            if interface.is_empty() {
                return vec![response(id, "Error").with("Message", "'Interface' not specified.")];
            }
            let penalty = action.get("Penalty").and_then(|p| p.trim().parse().ok()).unwrap_or(0);
            let outcome = world.add_member(
                queue,
                interface,
                action.get("MemberName").unwrap_or_default(),
                action.get("StateInterface").unwrap_or_default(),
                penalty,
                truthy(action.get("Paused")),
                action.get("Reason"),
            );
            result(outcome, "Added interface to queue")
        }
        "queueremove" => {
            let (Some(queue), false) = (queue, interface.is_empty()) else {
                return vec![response(id, "Error").with("Message", "Need 'Queue' and 'Interface' parameters.")];
            };
            result(world.remove_member(queue, interface), "Removed interface from queue")
        }
        "queuepause" => {
            if interface.is_empty() || action.get("Paused").is_none() {
                return vec![response(id, "Error").with("Message", "Need 'Interface' and 'Paused' parameters.")];
            }
            let paused = truthy(action.get("Paused"));
            let outcome = world.pause(queue, interface, paused, action.get("Reason").unwrap_or_default());
            result(outcome, if paused { "Interface paused successfully" } else { "Interface unpaused successfully" })
        }
        "queuepenalty" => {
            let penalty = action.get("Penalty").and_then(|p| p.trim().parse::<u32>().ok());
            match penalty {
                Some(penalty) if !interface.is_empty() => {
                    result(world.set_penalty(queue, interface, penalty), "Interface penalty set successfully")
                }
                _ => vec![response(id, "Error").with("Message", "Invalid interface, queuename or penalty")],
            }
        }
        "originate" => originate(action, id, &mut world),
        "mixmonitor" | "stopmixmonitor" => {
            let channel = action.get("Channel").unwrap_or_default();
            if channel.is_empty() {
                return vec![response(id, "Error").with("Message", "No channel specified")];
            }
            match world.channel_by_name(channel) {
                None => vec![response(id, "Error").with("Message", "No such channel")],
                Some(found) if name == "mixmonitor" => {
                    vec![response(id, "Success").with("MixMonitorID", format!("0x{:x}", found.created_at.to_bits() & 0xffff_ffff))]
                }
                Some(_) => vec![response(id, "Success")],
            }
        }
        "command" => {
            let command = action.get("Command").unwrap_or_default().trim().to_string();
            let output: Vec<String> = match command.as_str() {
                "core show channels count" => {
                    let channels = world.channels.len();
                    vec![format!("{channels} active channels"), format!("{} active calls", channels / 2), format!("{} calls processed", world.events_sent / 20)]
                }
                "core show version" => vec!["Asterisk 18.20.0 built by relais-sim".to_string()],
                _ => vec![format!("No such command '{command}' (type 'core show help {command}' for other possible commands)")],
            };
            let mut reply = response(id, "Success").with("Message", "Command output follows");
            for line in output {
                reply.push("Output", line);
            }
            vec![reply]
        }
        "coresettings" => vec![response(id, "Success").with("AMIversion", "13.0.0").with("AsteriskVersion", "18.20.0").with("CoreCDRenabled", "Yes")],
        _ => vec![response(id, "Error").with(
            "Message",
            format!("Invalid/unknown command: {}. Use Action: ListCommands to show available commands.", action.get("Action").unwrap_or_default()),
        )],
    }
}

/// `"Name" <number>` (or a bare number) as Asterisk parses a CallerID.
fn caller_id(text: &str) -> (String, String) {
    match text.rsplit_once('<') {
        Some((name, number)) => (name.trim().trim_matches('"').to_string(), number.trim_end_matches('>').trim().to_string()),
        None => (String::new(), text.trim().to_string()),
    }
}

fn list(id: &Option<String>, message: &str, items: Vec<Message>, complete: &str) -> Vec<Message> {
    let count = items.len();
    let mut out = vec![response(id, "Success").with("EventList", "start").with("Message", message)];
    out.extend(items);
    let mut done = Message::new().with("Event", complete);
    if let Some(id) = id {
        done.push("ActionID", id.clone());
    }
    done.push("EventList", "Complete");
    done.push("ListItems", count.to_string());
    out.push(done);
    out
}

/// Originate: the channel is "rung" at once. A call into `Local/QUEUE@incoming` enters that
/// queue, as the dialplan of the captures does (`Queue(${EXTEN})`); ChanSpy starts spying on
/// the target's current channel when it has one; other applications just run, and a call to a
/// context and extension (the desk's click-to-call) is reported as placed.
fn originate(action: &Message, id: &Option<String>, world: &mut World) -> Vec<Message> {
    let target = action.get("Channel").unwrap_or_default().to_string();
    if let Some(queue) = target.strip_prefix("Local/").and_then(|rest| rest.split_once("@incoming")).map(|(q, _)| q.to_string()) {
        let (name, number) = caller_id(action.get("CallerID").unwrap_or_default());
        return match world.caller_joins(&queue, &number, &name) {
            Some(_) => vec![response(id, "Success").with("Message", "Originate successfully queued")],
            None => vec![response(id, "Error").with("Message", "Originate failed")],
        };
    }
    let Some((technology, _)) = target.split_once('/') else {
        return vec![response(id, "Error").with("Message", "Invalid channel")];
    };
    if !matches!(technology, "PJSIP" | "SIP" | "IAX2" | "DAHDI" | "Local") {
        return vec![response(id, "Error").with("Message", "Originate failed")];
    }
    let application = action.get("Application").unwrap_or_default().to_string();
    let data = action.get("Data").unwrap_or_default().to_string();
    let device = target.strip_suffix("/n").unwrap_or(&target).to_string();
    let mut channel = world.new_channel(&device, target.starts_with("Local/"), "", "", "default", "s", None);
    channel.application = application.clone();
    channel.data = data.clone();
    let mut done = Message::new().with("Event", "OriginateResponse").with("Privilege", "call,all");
    if let Some(id) = id {
        done.push("ActionID", id.clone());
    }
    done.push("Response", "Success");
    done.push("Channel", channel.name.clone());
    // A call to a dialplan extension (click-to-call) answers with where it went; an application
    // (ChanSpy) with what ran.
    match action.get("Exten") {
        Some(exten) => {
            done.push("Context", action.get("Context").unwrap_or_default().to_string());
            done.push("Exten", exten.to_string());
        }
        None => {
            done.push("Application", application.clone());
            done.push("Data", data.clone());
        }
    }
    done.push("Reason", "4");
    done.push("Uniqueid", channel.uniqueid.clone());
    done.push("CallerIDNum", "<unknown>");
    done.push("CallerIDName", "<unknown>");
    world.emit(done);
    if application.eq_ignore_ascii_case("ChanSpy") {
        let spied_device = data.split(',').next().unwrap_or_default();
        if let Some(spyee) = world.channel_of_device(spied_device) {
            let mut start = Message::new().with("Event", "ChanSpyStart").with("Privilege", "call,all");
            channel_fields(&mut start, "Spyer", &channel, 6);
            channel_fields(&mut start, "Spyee", &spyee, 6);
            world.emit(start);
        }
    }
    vec![response(id, "Success").with("Message", "Originate successfully queued")]
}
