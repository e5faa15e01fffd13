//! The kiosk's on-screen keyboard and number pad (issue 14), in real headless Chromium: a text
//! field brings up the letters (with ñ in Spanish), a numeric field the number pad; the keys type
//! into the field, the roster filters as it is typed, and every key is a 48 px touch target.

mod common;

use std::time::Duration;

use common::browser::{chromium_ready, login, shot, Browser};
use common::{Station, PIN};

const T: Duration = Duration::from_secs(10);

async fn value(b: &Browser, css: &str) -> String {
    b.js(
        "return document.querySelector(arguments[0]).value",
        vec![serde_json::json!(css)],
    )
    .await
    .unwrap()
    .as_str()
    .unwrap()
    .to_string()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn on_screen_keyboard_types_into_the_roster_filter_and_the_number_pad_into_numbers() {
    if !chromium_ready() {
        return;
    }
    let st = Station::kiosk(300, "").await;
    let id = st
        .supervisor()
        .await
        .batch_on_lane("main", &st.today())
        .await;
    let b = Browser::start(480, 800).await.unwrap();
    b.goto(&format!("{}/#batch/{id}/roster", st.root))
        .await
        .unwrap();
    login(&b, PIN).await;
    b.wait_visible("#roster-list li", T).await.unwrap();
    let all = b
        .js(
            "return document.querySelectorAll('#roster-list li').length",
            vec![],
        )
        .await
        .unwrap()
        .as_u64()
        .unwrap();
    b.tap("#roster-filter").await.unwrap();
    b.wait_visible("#kbd [data-kbd=\"m\"]", T).await.unwrap();
    for k in ["m", "a", "r", "x", "backspace"] {
        b.tap(&format!("#kbd [data-kbd=\"{k}\"]")).await.unwrap();
    }
    assert_eq!(value(&b, "#roster-filter").await, "mar");
    // Search as you type: only the matching clients are left.
    let shown = b
        .wait(
            "roster filtered",
            &format!(
                "const li = [...document.querySelectorAll('#roster-list li')]; return li.length && li.length < {all} && li.every(e => /mar/i.test(e.innerText)) ? li.length : 0"
            ),
            T,
        )
        .await
        .unwrap();
    assert!(shown.as_u64().unwrap() >= 1);
    for (w, h) in [(480, 800), (800, 480), (1280, 800)] {
        b.viewport(w, h).await.unwrap();
        shot(&b, "kbd-roster", (w, h)).await;
    }
    b.tap("#kbd [data-kbd=\"done\"]").await.unwrap();
    b.wait(
        "keyboard hidden",
        "return document.getElementById('kbd').hidden",
        T,
    )
    .await
    .unwrap();

    // Numbers get the number pad.
    b.viewport(800, 480).await.unwrap();
    b.goto(&format!("{}/#new", st.root)).await.unwrap();
    b.wait_visible("#f-units", T).await.unwrap();
    b.tap("#f-units").await.unwrap();
    b.wait(
        "number pad",
        "const k = document.getElementById('kbd'); return !k.hidden && k.dataset.layout === 'pad'",
        T,
    )
    .await
    .unwrap();
    b.tap("#kbd [data-kbd=\"2\"]").await.unwrap();
    assert_eq!(value(&b, "#f-units").await, "12");
    // The field stays in sight above the keys.
    let clear = b
        .wait(
            "field above the keys",
            "return document.getElementById('f-units').getBoundingClientRect().bottom <= document.getElementById('kbd').getBoundingClientRect().top",
            T,
        )
        .await;
    assert!(clear.is_ok(), "{clear:?}");
    shot(&b, "kbd-number-pad", (800, 480)).await;

    // In Spanish: the letters have ñ and the keys are labelled in Spanish.
    b.goto(&format!("{}/?lang=es#batch/{id}/lost", st.root))
        .await
        .unwrap();
    b.wait_visible("#lc-q", T).await.unwrap();
    b.tap("#lc-q").await.unwrap();
    b.wait_visible("#kbd [data-kbd=\"ñ\"]", T).await.unwrap();
    assert_eq!(b.text("#kbd [data-kbd=\"done\"]").await.unwrap(), "Listo");
    assert_eq!(
        b.text("#kbd [data-kbd=\"space\"]").await.unwrap(),
        "Espacio"
    );
    shot(&b, "kbd-lost-card-es", (800, 480)).await;
    b.quit().await;
    st.stop().await;
}
