//! The NPS programme in a real browser: the card's displays reach the
//! report's response and dismissal rates.

use pulso_e2e::{
    Stack, TOKEN, card, choose_score, click_when_there, eventually, in_card, send, with_browser,
};
use serde_json::Value;

/// Through the shop's funnel to its done page, where the card shows.
async fn to_the_card(client: &fantoccini::Client, shop: &str) -> fantoccini::elements::ShadowRoot {
    client.goto(shop).await.unwrap();
    for button in ["add-to-cart", "checkout", "place-order"] {
        click_when_there(client, button).await;
    }
    card(client).await
}

async fn report(collector: &str) -> Value {
    reqwest::Client::new()
        .get(format!("{collector}/v1/sites/shop/report"))
        .bearer_auth(TOKEN)
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap()
}

/// The report's overall figures once `holds` is true of them.
async fn once(collector: &str, what: &str, holds: impl Fn(&Value) -> bool) -> Value {
    eventually(what, || async {
        let overall = report(collector).await["overall"].clone();
        holds(&overall).then_some(overall)
    })
    .await
}

/// One visitor closes the card without a score, another answers: two
/// displays, one dismissed, one answer.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_dismissed_card_counts_in_the_dismissal_rate() {
    let stack = Stack::start().await;
    let (shop, collector) = (stack.shop.clone(), stack.collector.clone());
    with_browser(move |client| async move {
        let root = to_the_card(&client, &shop).await;
        // Shown: posted as the card appears.
        once(&collector, "a display", |o| o["displays"] == 1).await;
        in_card(&root, "button.close").await.click().await.unwrap();
        once(&collector, "a dismissed display", |o| {
            o["dismissed_displays"] == 1
        })
        .await;
    })
    .await;
    let (shop, collector) = (stack.shop.clone(), stack.collector.clone());
    with_browser(move |client| async move {
        let root = to_the_card(&client, &shop).await;
        choose_score(&root, 9).await;
        send(&root).await;
        once(&collector, "the second display", |o| o["displays"] == 2).await;
    })
    .await;
    let o = report(&stack.collector).await["overall"].clone();
    assert_eq!(o["displays"], 2, "{o}");
    assert_eq!(o["dismissed_displays"], 1, "{o}");
    assert_eq!(o["answers"], 1, "{o}");
    assert_eq!(o["response_rate"], 0.5);
    assert_eq!(o["dismissal_rate"], 0.5);
    let step = &report(&stack.collector).await["by_step"]["checkout_done"];
    assert_eq!(step["displays"], 2, "{step}");
}
