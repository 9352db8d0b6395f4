//! Charts drawn in the browser by Apache ECharts (served from /vendor, never a CDN) from
//! charming's description; the server renders the empty box. Pages that show charts include
//! `<Script src="/vendor/echarts.min.js" />`.

use charming::Chart;
use charming::component::{Axis, Legend};
use charming::element::{AxisType, Tooltip, Trigger};
use leptos::prelude::*;

/// A chart drawn in the browser once ECharts is loaded. The server renders its box only.
#[component]
pub fn ChartBox(id: &'static str, #[prop(into)] chart: Signal<Chart>) -> impl IntoView {
    let node = NodeRef::<leptos::html::Div>::new();
    #[cfg(feature = "hydrate")]
    {
        use std::sync::Arc;
        use std::sync::atomic::{AtomicU32, Ordering};
        // Each drawing request supersedes the previous ones, and removal cancels them all.
        let generation = Arc::new(AtomicU32::new(0));
        let on_removal = generation.clone();
        on_cleanup(move || {
            on_removal.fetch_add(1, Ordering::Relaxed);
        });
        Effect::new(move |_| {
            let chart = chart.get();
            let current = generation.fetch_add(1, Ordering::Relaxed) + 1;
            draw(ChartTarget { id, node, generation: generation.clone(), current }, chart, 400);
        });
    }
    #[cfg(not(feature = "hydrate"))]
    let _ = chart;
    view! { <div id=id class="chart" node_ref=node data-testid=format!("chart-{id}")></div> }
}

/// The box one drawing request is for.
#[cfg(feature = "hydrate")]
struct ChartTarget {
    id: &'static str,
    node: NodeRef<leptos::html::Div>,
    generation: std::sync::Arc<std::sync::atomic::AtomicU32>,
    current: u32,
}

/// Draws when both the ECharts script (it loads with the page) and this box are in the page,
/// retrying every 50 ms. Waiting for the box matters inside a `Transition`: the new view is built
/// while the previous one, with a box of the same id, is still shown.
#[cfg(feature = "hydrate")]
fn draw(target: ChartTarget, chart: Chart, attempts: u32) {
    if target.generation.load(std::sync::atomic::Ordering::Relaxed) != target.current {
        return;
    }
    let echarts_loaded = js_sys::Reflect::has(&window(), &"echarts".into()).unwrap_or(false);
    let element = target.node.get_untracked();
    let in_page = element.as_ref().is_some_and(|element| {
        let element: &wasm_bindgen::JsValue = element.as_ref();
        document().get_element_by_id(target.id).is_some_and(|found| {
            let found: &wasm_bindgen::JsValue = found.as_ref();
            found == element
        })
    });
    match element {
        Some(element) if echarts_loaded && in_page => {
            // A chart already in the box is replaced, not stacked.
            element.set_inner_html("");
            element.remove_attribute("_echarts_instance_").ok();
            if charming::WasmRenderer::new_opt(None, None).render(target.id, &chart).is_ok() {
                let _ = element.set_attribute("data-drawn", "true");
            }
        }
        _ if attempts > 0 => {
            set_timeout(move || draw(target, chart, attempts - 1), std::time::Duration::from_millis(50));
        }
        _ => leptos::logging::warn!("chart {} not drawn: ECharts or its box never appeared", target.id),
    }
}

pub fn base_chart(labels: Vec<String>) -> Chart {
    Chart::new()
        .legend(Legend::new())
        .tooltip(Tooltip::new().trigger(Trigger::Axis))
        .x_axis(Axis::new().type_(AxisType::Category).data(labels))
        .y_axis(Axis::new().type_(AxisType::Value))
}
