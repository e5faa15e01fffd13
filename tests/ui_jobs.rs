//! The supervisor's three main jobs on the kiosk (issue 14), performed in real headless Chromium
//! through taps only and counted: open today's lunch batch on a lane with remembered defaults
//! (goal: 6 taps or fewer), review and post a batch with flagged entries (5), find a client by
//! name prefix on the on-screen keyboard and add them (8 plus the letters typed). Around them, the
//! new-batch screen (per-lane defaults kept on the station, allowed dates only, moving a lane asks
//! first, the project on every batch header and list row, times in the station's time zone),
//! "Served today" marks with a warning, the roster's letter index, unassigned scans moved all at
//! once with their names, and the post dialog that says the lane is unbound and opens the next
//! batch. Screenshots at 800x480, 1280x800 and 480x800 go to `target/screenshots/`.

mod common;

use std::time::Duration;

use serde_json::{json, Value};

use common::browser::{chromium_ready, login, shot, Browser};
use common::{Api, Station, PIN};

const T: Duration = Duration::from_secs(10);
const SIZES: [(u32, u32); 3] = [(800, 480), (1280, 800), (480, 800)];

/// Taps of one job: every tap goes through here and is counted; letters typed on the on-screen
/// keyboard are counted apart (the goals are "N taps plus the letters typed").
struct Taps<'a> {
    b: &'a Browser,
    taps: u32,
    letters: u32,
}

impl<'a> Taps<'a> {
    fn new(b: &'a Browser) -> Self {
        Taps {
            b,
            taps: 0,
            letters: 0,
        }
    }
    async fn tap(&mut self, css: &str) {
        self.b.tap(css).await.unwrap();
        self.taps += 1;
    }
    async fn letters(&mut self, text: &str) {
        for c in text.chars() {
            let key = if c == ' ' {
                "space".into()
            } else {
                c.to_string()
            };
            self.b
                .tap(&format!("#kbd [data-kbd=\"{key}\"]"))
                .await
                .unwrap();
            self.letters += 1;
        }
    }
}

async fn value(b: &Browser, css: &str) -> Value {
    b.js(
        "const e = document.querySelector(arguments[0]); return e ? e.value : null",
        vec![json!(css)],
    )
    .await
    .unwrap()
}

async fn wait_hash(b: &Browser, prefix: &str) {
    b.wait(
        &format!("location {prefix}"),
        &format!("return location.hash.startsWith({})", json!(prefix)),
        T,
    )
    .await
    .unwrap();
}

async fn shots(b: &Browser, name: &str) {
    for size in SIZES {
        b.viewport(size.0, size.1).await.unwrap();
        shot(b, name, size).await;
    }
    b.viewport(800, 480).await.unwrap();
}

/// The lane `lane` feeds, from `GET /lanes`.
async fn lane_batch(api: &Api, lane: &str) -> Option<String> {
    let lanes = api.get_ok("/lanes").await;
    lanes
        .as_array()
        .unwrap()
        .iter()
        .find(|l| l["lane"] == lane)
        .and_then(|l| l["batch_id"].as_str().map(str::to_string))
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn new_batch_remembers_lane_defaults_offers_allowed_dates_and_asks_before_moving_a_lane() {
    if !chromium_ready() {
        return;
    }
    let st = Station::kiosk(300, "[hmis]\nmax_backdate_days = 3\n").await;
    let api = st.supervisor().await;
    let session = api.get_ok("/session").await;
    assert_eq!(session["timezone"], "America/Chicago");
    let today = session["today"].as_str().unwrap().to_string();
    let earliest = (chrono::NaiveDate::parse_from_str(&today, "%Y-%m-%d").unwrap()
        - chrono::Duration::days(3))
    .to_string();
    assert_eq!(
        session["service_dates"],
        json!({"earliest": earliest, "latest": today})
    );
    // The last batch on lane main was the night shelter's bed nights (not the first project
    // alphabetically, nor the first service): those are main's defaults from now on.
    let night = api
        .new_batch(json!({"project_id": "2002", "service_code": "200", "lane": "main"}))
        .await;
    let (s, _) = api.put("/lanes/main", json!({"batch_id": null})).await;
    assert!(s.is_success());
    let lanes = api.get_ok("/lanes").await;
    let main = lanes
        .as_array()
        .unwrap()
        .iter()
        .find(|l| l["lane"] == "main")
        .unwrap();
    assert_eq!(
        main["defaults"],
        json!({"project_id": "2002", "service_code": "200"})
    );
    // Lane "door" feeds a batch that stays open.
    let door = api
        .new_batch(json!({"project_id": "1001", "service_code": "484", "lane": "door", "name": "Door lunch"}))
        .await;

    let b = Browser::start(800, 480).await.unwrap();
    b.goto(&format!("{}/", st.root)).await.unwrap();
    b.wait_visible("#to-supervisor", T).await.unwrap();

    // Job 1: open today's batch on the kiosk's lane with its remembered defaults.
    let mut job = Taps::new(&b);
    job.tap("#to-supervisor").await;
    login(&b, PIN).await; // the PIN is not counted: it is the supervisor's, like letters typed
    b.wait_visible("#new-batch", T).await.unwrap();
    job.tap("#new-batch").await;
    b.wait_visible("#f-create", T).await.unwrap();
    assert_eq!(value(&b, "#f-lane").await, "main");
    assert_eq!(value(&b, "#f-project").await, "2002");
    assert_eq!(value(&b, "#f-service").await, "200");
    assert_eq!(value(&b, "#f-date").await, json!(today));
    let (min, max) = (
        b.js("return document.getElementById('f-date').min", vec![])
            .await
            .unwrap(),
        b.js("return document.getElementById('f-date').max", vec![])
            .await
            .unwrap(),
    );
    assert_eq!((min, max), (json!(earliest), json!(today)));
    shots(&b, "new-batch-defaults").await;
    job.tap("#f-create").await;
    wait_hash(&b, "#batch/").await;
    b.wait_visible("#batch-project", T).await.unwrap();
    let opened = job.taps;
    println!("TAPS open today's batch on a lane with remembered defaults: {opened} (goal <= 6; PIN not counted)");
    assert!(opened <= 6, "{opened} taps");
    let created = lane_batch(&api, "main")
        .await
        .expect("main feeds the new batch");
    assert_ne!(created, night);
    let batch = api.get_ok(&format!("/batches/{created}")).await;
    assert_eq!(
        (&batch["project_id"], &batch["service_code"]),
        (&json!("2002"), &json!("200"))
    );
    // The project is on the batch header ...
    assert!(b
        .text("#batch-project")
        .await
        .unwrap()
        .contains("Night Shelter, Main St"));
    shots(&b, "batch-project").await;

    // ... and on every row of the batch list.
    b.goto(&format!("{}/#batches", st.root)).await.unwrap();
    b.wait_visible("#open-batches .batch-row", T).await.unwrap();
    let rows = b
        .js(
            "return [...document.querySelectorAll('.batch-row')].map(r => r.querySelector('.batch-project').innerText)",
            vec![],
        )
        .await
        .unwrap();
    let rows: Vec<&str> = rows
        .as_array()
        .unwrap()
        .iter()
        .map(|v| v.as_str().unwrap())
        .collect();
    assert!(rows.len() >= 3, "{rows:?}");
    assert!(rows.contains(&"Hot Meals Program") && rows.contains(&"Night Shelter, Main St"));
    shots(&b, "batches-projects").await;

    // Choosing a lane that feeds another open batch asks first; Cancel keeps it where it is.
    b.goto(&format!("{}/#new", st.root)).await.unwrap();
    b.wait_visible("#f-lane", T).await.unwrap();
    b.js(
        "const s = document.getElementById('f-lane'); s.value = 'door'; s.dispatchEvent(new Event('change'));",
        vec![],
    )
    .await
    .unwrap();
    b.tap("#f-create").await.unwrap();
    b.wait_visible("dialog[open]", T).await.unwrap();
    let q = b.text("dialog[open] h2").await.unwrap();
    assert!(
        q.contains("Lane door feeds") && q.contains("Door lunch"),
        "{q}"
    );
    shots(&b, "new-batch-move-lane").await;
    b.tap("dialog[open] .btn:not([data-confirm])")
        .await
        .unwrap();
    b.wait(
        "dialog closed",
        "return !document.querySelector('dialog[open]')",
        T,
    )
    .await
    .unwrap();
    assert_eq!(
        lane_batch(&api, "door").await.as_deref(),
        Some(door.as_str())
    );
    b.tap("#f-create").await.unwrap();
    b.tap("dialog[open] [data-confirm]").await.unwrap();
    wait_hash(&b, "#batch/").await;
    let moved = lane_batch(&api, "door").await.unwrap();
    assert_ne!(moved, door, "door now feeds the new batch");

    // Times are the station's (America/Chicago), not the browser's.
    api.scan("door", "C001").await;
    b.wait_visible("#entries .entry", T).await.unwrap();
    let entry = &api.get_ok(&format!("/batches/{moved}")).await["entries"][0];
    let shown = b.text("#entries .entry .muted").await.unwrap();
    let times = b
        .js(
            "const d = new Date(arguments[0]); const o = {hour: 'numeric', minute: '2-digit', second: '2-digit'}; \
             return [d.toLocaleTimeString('en-US', {...o, timeZone: 'America/Chicago'}), d.toLocaleTimeString('en-US', o), Intl.DateTimeFormat().resolvedOptions().timeZone];",
            vec![entry["scanned_at"].clone()],
        )
        .await
        .unwrap();
    let station_time = times[0].as_str().unwrap();
    assert!(
        shown.contains(station_time),
        "{shown:?} shows {station_time}"
    );
    if times[2] != "America/Chicago" {
        assert!(
            !shown.contains(times[1].as_str().unwrap()),
            "{shown:?} shows the browser's time"
        );
    }
    b.quit().await;
    st.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn review_and_post_a_flagged_batch_in_five_taps_after_moving_unassigned_scans_by_name() {
    if !chromium_ready() {
        return;
    }
    let st = Station::kiosk(300, "").await;
    let api = st.supervisor().await;
    let id = api.batch_on_lane("main", &st.today()).await;
    api.scan("main", "C001").await; // ok
    api.scan("main", "C006").await; // not enrolled
    api.scan("main", "NOBODY").await; // unknown client
                                      // Two scans on a lane with no batch: one card the station knows, one it does not.
    api.scan("side", "C002").await;
    api.scan("side", "NOBODY2").await;

    let b = Browser::start(800, 480).await.unwrap();
    b.goto(&format!("{}/#batches", st.root)).await.unwrap();
    login(&b, PIN).await;
    b.wait_visible("#unassigned", T).await.unwrap();
    let titles = b
        .js(
            "return [...document.querySelectorAll('#unassigned li .title')].map(e => e.innerText)",
            vec![],
        )
        .await
        .unwrap();
    assert_eq!(titles, json!(["James O.", "NOBODY2"]));
    shots(&b, "batches-unassigned").await;

    // On the batch: "Move all 2 to this batch".
    b.tap(&format!(".batch-row[data-batch=\"{id}\"]"))
        .await
        .unwrap();
    b.wait_visible("#move-all-here", T).await.unwrap();
    assert!(b
        .text("#batch-unassigned")
        .await
        .unwrap()
        .contains("James O."));
    shots(&b, "batch-unassigned").await;
    b.tap("#move-all-here").await.unwrap();
    let entries = api.wait_entries(&id, 5).await;
    assert_eq!(entries.len(), 5);
    b.wait(
        "unassigned box gone",
        "return !document.getElementById('batch-unassigned')",
        T,
    )
    .await
    .unwrap();
    assert_eq!(api.get_ok("/scans/unassigned").await, json!([]));

    // Job 2: review and post a batch with flagged entries, from the batch list.
    b.goto(&format!("{}/#batches", st.root)).await.unwrap();
    b.wait_visible(&format!(".batch-row[data-batch=\"{id}\"]"), T)
        .await
        .unwrap();
    let mut job = Taps::new(&b);
    job.tap(&format!(".batch-row[data-batch=\"{id}\"]")).await;
    b.wait(
        "3 flagged",
        "const e = document.getElementById('count-flagged'); return e && /3/.test(e.innerText)",
        T,
    )
    .await
    .unwrap();
    job.tap("#remove-flagged").await;
    job.tap("dialog[open] [data-confirm]").await;
    job.tap("#post").await;
    b.wait_visible("dialog[open] [data-alt]", T).await.unwrap();
    let body = b.text("dialog[open]").await.unwrap();
    assert!(body.contains("Lane main will be unbound"), "{body}");
    shots(&b, "post-dialog").await;
    job.tap("dialog[open] [data-alt]").await;
    wait_hash(&b, "#new?").await;
    let posted = job.taps;
    println!("TAPS review and post a batch with flagged entries: {posted} (goal <= 5)");
    assert!(posted <= 5, "{posted} taps");
    let batch = api.get_ok(&format!("/batches/{id}")).await;
    assert_eq!(batch["state"], "posted");
    assert_eq!(batch["counts"]["ok"], 2);
    // The next batch: same lane, project and service preselected.
    b.wait_visible("#f-create", T).await.unwrap();
    assert_eq!(value(&b, "#f-lane").await, "main");
    assert_eq!(value(&b, "#f-project").await, "1001");
    assert_eq!(value(&b, "#f-service").await, "484");
    assert_eq!(lane_batch(&api, "main").await, None);
    b.tap("#f-create").await.unwrap();
    wait_hash(&b, "#batch/").await;
    assert!(lane_batch(&api, "main").await.is_some());
    b.quit().await;
    st.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn served_today_is_marked_and_warned_and_a_client_is_found_by_name_on_the_keyboard() {
    if !chromium_ready() {
        return;
    }
    let st = Station::kiosk(300, "").await;
    let api = st.supervisor().await;
    // Maria had her meal today in another batch (posted since).
    let earlier = api.batch_on_lane("main", &st.today()).await;
    api.scan("main", "C001").await;
    let (s, v) = api
        .post(&format!("/batches/{earlier}/post"), json!({}))
        .await;
    assert!(s.is_success(), "{v}");
    let id = api.batch_on_lane("main", &st.today()).await;
    let served = api.roster_served(&id).await;
    assert!(served.contains(&("C001".into(), true)) && served.contains(&("C002".into(), false)));

    let b = Browser::start(800, 480).await.unwrap();
    b.goto(&format!("{}/#batch/{id}/roster", st.root))
        .await
        .unwrap();
    login(&b, PIN).await;
    b.wait_visible("#roster-list [data-client=\"C001\"]", T)
        .await
        .unwrap();
    assert!(b
        .text("#roster-list [data-client=\"C001\"]")
        .await
        .unwrap()
        .contains("Served today"));
    assert!(!b
        .text("#roster-list [data-client=\"C002\"]")
        .await
        .unwrap()
        .contains("Served today"));
    shots(&b, "roster-served").await;
    // Ticking her asks first; Cancel adds nothing.
    b.tap("#roster-list [data-client=\"C001\"]").await.unwrap();
    b.wait_visible("dialog[open]", T).await.unwrap();
    assert!(b
        .text("dialog[open] h2")
        .await
        .unwrap()
        .contains("Maria G. was served today already"));
    b.tap("dialog[open] .btn:not([data-confirm])")
        .await
        .unwrap();
    b.wait(
        "dialog closed",
        "return !document.querySelector('dialog[open]')",
        T,
    )
    .await
    .unwrap();
    let batch = api.get_ok(&format!("/batches/{id}")).await;
    assert_eq!(batch["entries"], json!([]));

    // Job 3: find a client by name prefix on the on-screen keyboard and add them.
    b.goto(&format!("{}/#batch/{id}", st.root)).await.unwrap();
    b.wait_visible("#lost-card", T).await.unwrap();
    let mut job = Taps::new(&b);
    job.tap("#lost-card").await;
    b.wait_visible("#lc-q", T).await.unwrap();
    // The search field has the focus and the on-screen keyboard up by itself: no tap needed.
    b.wait_visible("#kbd [data-kbd=\"j\"]", T).await.unwrap();
    job.letters("ja").await;
    // Done searches (as Enter would) and puts the keys away.
    job.tap("#kbd [data-kbd=\"done\"]").await;
    job.tap("#lc-results [data-client=\"C002\"]").await;
    api.wait_entries(&id, 1).await;
    let found = job.taps;
    println!(
        "TAPS find a client by name prefix on the on-screen keyboard and add them: {found} + {} letters (goal <= 8 + letters)",
        job.letters
    );
    assert!(found <= 8, "{found} taps");
    let batch = api.get_ok(&format!("/batches/{id}")).await;
    assert_eq!(batch["entries"][0]["client_id"], "C002");
    assert_eq!(batch["entries"][0]["verdict"], "ok");

    // Lost-card results mark Maria too, and adding her warns before it makes a duplicate.
    b.tap("#lc-q").await.unwrap();
    b.type_into("#lc-q", "mar").await.unwrap();
    b.tap("#lc-search").await.unwrap();
    b.wait_visible("#lc-results [data-served=\"true\"]", T)
        .await
        .unwrap();
    assert!(b
        .text("#lc-results [data-served=\"true\"]")
        .await
        .unwrap()
        .contains("Served today"));
    shots(&b, "lost-card-served").await;
    b.tap("#lc-results [data-client=\"C001\"]").await.unwrap();
    b.wait_visible("dialog[open]", T).await.unwrap();
    b.tap("dialog[open] [data-confirm]").await.unwrap();
    let entries = api.wait_entries(&id, 2).await;
    assert_eq!(entries[1]["verdict"], "duplicate");
    b.quit().await;
    st.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn roster_letter_index_jumps_to_the_letter() {
    if !chromium_ready() {
        return;
    }
    let dir = tempfile::tempdir().unwrap();
    let today = chrono::Utc::now()
        .with_timezone(&chrono_tz::America::Chicago)
        .date_naive();
    let spec = scanstation::synth::SynthSpec::new(300, 7, today);
    let sum = scanstation::synth::write_hud_csv(&dir.path().join("export"), &spec).unwrap();
    let st = Station::builder()
        .import(&dir.path().join("export"))
        .config(|c| c.idle_lock(300))
        .start()
        .await;
    let api = st.supervisor().await;
    let id = api
        .new_batch(json!({"project_id": sum.main_project(), "service_code": "484"}))
        .await;
    let b = Browser::start(800, 480).await.unwrap();
    b.goto(&format!("{}/#batch/{id}/roster", st.root))
        .await
        .unwrap();
    login(&b, PIN).await;
    b.wait_visible("#roster-index [data-letter]", T)
        .await
        .unwrap();
    let letters = b
        .js(
            "return [...document.querySelectorAll('#roster-index [data-letter]')].map(e => e.dataset.letter)",
            vec![],
        )
        .await
        .unwrap();
    let letters: Vec<String> = letters
        .as_array()
        .unwrap()
        .iter()
        .map(|v| v.as_str().unwrap().to_string())
        .collect();
    assert!(letters.len() >= 5, "{letters:?}");
    for size in SIZES {
        b.viewport(size.0, size.1).await.unwrap();
        shot(&b, "roster-index", size).await;
        // A tap on a letter brings its first client to the top, under the index.
        let last = &letters[letters.len() / 2];
        b.tap(&format!("#roster-index [data-letter=\"{last}\"]"))
            .await
            .unwrap();
        let script = format!(
            "const row = document.querySelector('#roster-list [data-initial=\"{last}\"]'); \
             const idx = document.getElementById('roster-index').getBoundingClientRect(); \
             const r = row.getBoundingClientRect(); \
             return r.top >= idx.bottom - 2 && r.top < idx.bottom + 80 && row.innerText.trim().toUpperCase().startsWith('{last}');"
        );
        b.wait(&format!("jumped to {last}"), &script, T)
            .await
            .unwrap();
        shot(&b, &format!("roster-index-{last}"), size).await;
        b.js("document.getElementById('sup-body').scrollTop = 0", vec![])
            .await
            .unwrap();
    }
    b.quit().await;
    st.stop().await;
}
