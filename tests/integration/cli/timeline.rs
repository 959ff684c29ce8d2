//! `query --format html` opened in a real headless browser (Debian's Chromium; `scripts/test`
//! installs it): the page's script runs without an error and draws every event, the failed call
//! highlighted and the members' periods as bands.

use std::process::Command;
use std::time::Duration;

use a4b_audit_devtools::scenario;

use crate::harness::{TestEnv, events_dir};

/// The DOM of `html` after Chromium loaded it and ran its script.
fn rendered_dom(html: &str) -> String {
    let dir = tempfile::tempdir().unwrap();
    let page = dir.path().join("timeline.html");
    std::fs::write(&page, html).unwrap();
    let profile = dir.path().join("profile");
    let mut child = Command::new("chromium")
        .args([
            "--headless",
            "--no-sandbox",
            "--disable-gpu",
            "--disable-background-networking",
            "--disable-component-update",
            "--disable-sync",
            "--no-first-run",
            &format!("--user-data-dir={}", profile.display()),
            "--dump-dom",
        ])
        .arg(format!("file://{}", page.display()))
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::null())
        .spawn()
        .expect("chromium runs (scripts/test installs Debian's chromium package)");
    // A hung browser fails the test instead of stalling the suite.
    let deadline = std::time::Instant::now() + Duration::from_secs(120);
    while child.try_wait().unwrap().is_none() {
        assert!(
            std::time::Instant::now() < deadline,
            "chromium did not finish"
        );
        std::thread::sleep(Duration::from_millis(100));
    }
    let output = child.wait_with_output().unwrap();
    assert!(output.status.success(), "chromium failed: {output:?}");
    String::from_utf8(output.stdout).unwrap()
}

/// The value of `name="…"` on the `<body>` tag.
fn body_attribute<'a>(dom: &'a str, name: &str) -> &'a str {
    let body = &dom[dom.find("<body").expect("a body")..];
    let body = &body[..body.find('>').unwrap()];
    let start = body
        .find(&format!("{name}=\""))
        .unwrap_or_else(|| panic!("no {name} on {body}"))
        + name.len()
        + 2;
    &body[start..start + body[start..].find('"').unwrap()]
}

#[tokio::test]
async fn the_html_timeline_of_a_room_loads_without_errors_and_shows_each_event() {
    let env = TestEnv::new("html-timeline").await;
    let logs = events_dir().join(a4b_audit_devtools::samples::LOGS_DIR);
    for key in scenario::log_keys() {
        let run = env.cli(&["process", logs.join(key).to_str().unwrap()]);
        assert_eq!(run.code, Some(0), "{run:?}");
    }
    let run = env.cli(&[
        "query",
        "--room",
        &scenario::south_room(),
        "--format",
        "html",
    ]);
    assert_eq!(run.code, Some(0), "{run:?}");
    // Self-contained: nothing to fetch, and the page's policy forbids fetching anything.
    for external in ["<script src", "<link", "<img", "<iframe"] {
        assert!(!run.stdout.contains(external), "{external}");
    }
    assert!(run.stdout.contains("default-src 'none'"));

    let dom = rendered_dom(&run.stdout);
    assert_eq!(body_attribute(&dom, "data-ready"), "true", "{dom}");
    assert_eq!(body_attribute(&dom, "data-error-count"), "0", "{dom}");
    let events = scenario::south_history().len();
    assert_eq!(body_attribute(&dom, "data-event-count"), events.to_string());
    assert_eq!(dom.matches("class=\"event").count(), events, "{dom}");
    // Step 15 failed.
    let failed = dom
        .split("<circle")
        .skip(1)
        .filter(|circle| circle[..circle.find('>').unwrap()].contains(" error\""))
        .count();
    assert_eq!(failed, 1, "{dom}");
    // The device from step 12 to 20, the first profile since step 3.
    assert_eq!(dom.matches("class=\"band device\"").count(), 1, "{dom}");
    assert_eq!(dom.matches("class=\"band profile\"").count(), 1, "{dom}");
}

#[tokio::test]
async fn a_page_whose_script_fails_says_so() {
    // The error counter the test above relies on does count errors.
    let html = "<!DOCTYPE html><html><body data-error-count=\"0\"><script>\
        window.onerror = function () { document.body.setAttribute('data-error-count', '1'); };\
        </script><script>undefinedFunction();</script></body></html>";
    let dom = rendered_dom(html);
    assert_eq!(body_attribute(&dom, "data-error-count"), "1", "{dom}");
}
