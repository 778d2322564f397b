//! axe-core finds no WCAG 2.1 A/AA violation in the card: English and Spanish,
//! the scale alone, the open question, a closed list with "Other" open.

use pulso_e2e::{
    Stack, axe_violations, card, choose_score, days_pass, in_card, send, with_browser,
};

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_card_passes_axe_in_both_locales_and_every_step() {
    let stack = Stack::start().await;
    let shop = stack.shop.clone();
    with_browser(move |client| async move {
        for lang in ["en", "es"] {
            // A new visitor for each language, so the first survey asks the open question.
            client.goto(&shop).await.unwrap();
            client
                .execute("localStorage.clear()", vec![])
                .await
                .unwrap();
            client
                .goto(&format!("{shop}/done?lang={lang}"))
                .await
                .unwrap();
            let root = card(&client).await;
            assert_eq!(
                axe_violations(&client).await,
                Vec::<String>::new(),
                "{lang}: scale"
            );
            choose_score(&root, 4).await;
            in_card(&root, "textarea").await;
            assert_eq!(
                axe_violations(&client).await,
                Vec::<String>::new(),
                "{lang}: open question"
            );
            in_card(&root, "textarea")
                .await
                .send_keys("ok")
                .await
                .unwrap();
            send(&root).await;
            assert_eq!(
                axe_violations(&client).await,
                Vec::<String>::new(),
                "{lang}: thanks"
            );

            // A later survey (months later): the closed list, with "Other" and
            // its text box open.
            days_pass(&client, 100).await;
            client
                .goto(&format!("{shop}/done?lang={lang}"))
                .await
                .unwrap();
            let root = card(&client).await;
            choose_score(&root, 8).await;
            in_card(&root, "input[value=other]")
                .await
                .click()
                .await
                .unwrap();
            in_card(&root, "#pulso-other").await;
            assert_eq!(
                axe_violations(&client).await,
                Vec::<String>::new(),
                "{lang}: closed list"
            );
            in_card(&root, "button.send").await.click().await.unwrap();
            in_card(&root, "#pulso-other-error").await;
            assert_eq!(
                axe_violations(&client).await,
                Vec::<String>::new(),
                "{lang}: error shown"
            );
        }
    })
    .await;
}
