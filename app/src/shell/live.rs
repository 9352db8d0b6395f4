//! What every live page shares: the state of its own link to the server, shown the same way
//! everywhere, and `follow`, which keeps a WebSocket server function open while the page is:
//! it hands each push to the page, draws only the newest when pushes pile up, reconnects with
//! backoff and sends the user to the login page when the session is over.

use leptos::prelude::*;

use crate::i18n::*;

/// The page's link to the server (not the PBX's or the modems'). Only the browser moves it
/// on; the server renders the first state.
#[cfg_attr(not(feature = "hydrate"), allow(dead_code))]
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Link {
    Connecting,
    Live,
    Lost,
}

#[component]
pub fn LinkState(link: RwSignal<Link>) -> impl IntoView {
    let i18n = use_i18n();
    view! {
        <p class="link-state" data-testid="link-state" data-state=move || format!("{:?}", link.get()).to_lowercase()>
            {move || match link.get() {
                Link::Connecting => t_string!(i18n, live_connecting),
                Link::Live => t_string!(i18n, live_connected),
                Link::Lost => t_string!(i18n, live_lost),
            }}
        </p>
    }
}

/// A flag the page clears when it goes away, which ends its `follow`.
#[cfg(feature = "hydrate")]
pub fn alive_while_mounted() -> std::sync::Arc<std::sync::atomic::AtomicBool> {
    let alive = std::sync::Arc::new(std::sync::atomic::AtomicBool::new(true));
    on_cleanup({
        let alive = alive.clone();
        move || alive.store(false, std::sync::atomic::Ordering::Relaxed)
    });
    alive
}

/// Opens the socket with `open`, greeting it with `hello`, and gives each push to `on_push`
/// until the page goes away.
#[cfg(feature = "hydrate")]
pub async fn follow<Request, Push, Open, Opening>(
    open: Open,
    hello: Request,
    on_push: impl Fn(Push),
    link: RwSignal<Link>,
    alive: std::sync::Arc<std::sync::atomic::AtomicBool>,
) where
    Request: Clone + Send + 'static,
    Open: Fn(server_fn::BoxedStream<Request, crate::error::AppError>) -> Opening,
    Opening: std::future::Future<Output = Result<server_fn::BoxedStream<Push, crate::error::AppError>, crate::error::AppError>>,
{
    use std::sync::atomic::Ordering;

    use futures::StreamExt;

    use crate::error::AppError;

    let expired = || {
        let _ = window().location().set_href("/login?expired=1");
    };
    let mut backoff_ms = 500;
    while alive.load(Ordering::Relaxed) {
        link.try_set(Link::Connecting);
        // The sending half stays here while the socket is read: dropping it closes the socket.
        let (mut greeting, requests) = futures::channel::mpsc::channel::<Result<Request, AppError>>(1);
        let _ = greeting.try_send(Ok(hello.clone()));
        match open(requests.into()).await {
            Ok(mut pushes) => {
                while let Some(mut push) = pushes.next().await {
                    if !alive.load(Ordering::Relaxed) {
                        return;
                    }
                    // Pushes that arrived while the page was busy drawing are stale: draw only
                    // the newest, so a slow machine shows the present instead of catching up.
                    while push.is_ok() {
                        match futures::FutureExt::now_or_never(pushes.next()) {
                            Some(Some(newer)) => push = newer,
                            _ => break,
                        }
                    }
                    match push {
                        Ok(value) => {
                            backoff_ms = 500;
                            on_push(value);
                            link.try_set(Link::Live);
                        }
                        Err(AppError::SessionExpired | AppError::NotSignedIn) => return expired(),
                        Err(_) => break,
                    }
                }
            }
            Err(AppError::SessionExpired | AppError::NotSignedIn) => return expired(),
            Err(_) => {}
        }
        drop(greeting);
        link.try_set(Link::Lost);
        sleep(backoff_ms).await;
        backoff_ms = (backoff_ms * 2).min(10_000);
    }
}

#[cfg(feature = "hydrate")]
async fn sleep(ms: u64) {
    let (done, wait) = futures::channel::oneshot::channel::<()>();
    set_timeout(
        move || {
            let _ = done.send(());
        },
        std::time::Duration::from_millis(ms),
    );
    let _ = wait.await;
}
