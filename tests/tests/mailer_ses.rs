//! The SES v2 mailer against an SES API (moto here; SES itself with `AWS_ENDPOINT_URL`
//! unset): a digest sent through `SendEmail` arrives with its sender, recipient, subject
//! and body; a sender that is not a verified identity is refused for good (no retry).

use integration_tests::services::{aws_config, aws_endpoint, unique};
use messaging_aws::SesMailer;
use messaging_core::notify::Mail;
use messaging_core::ports::{Mailer, SendFailure};
use serde_json::Value;

fn mail(from: &str, subject: &str) -> Mail {
    Mail {
        to: "client.ana@example.com".into(),
        from: from.into(),
        subject: subject.into(),
        text: "Ben Carter wrote: the plan is ready".into(),
        html: "<p>Ben Carter wrote: the plan is ready</p>".into(),
        headers: vec![(
            "List-Unsubscribe".into(),
            "<https://chat.example.com/unsubscribe?token=t>".into(),
        )],
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_digest_goes_out_through_ses_and_an_unverified_sender_is_refused() {
    let sdk = aws_config().await;
    let sender = format!("{}@messaging.example.com", unique("notify"));
    aws_sdk_sesv2::Client::new(&sdk)
        .create_email_identity()
        .email_identity(&sender)
        .send()
        .await
        .expect("create the sender identity");
    let mailer = SesMailer::new(&sdk, None);
    let subject = format!("3 new messages {}", unique("s"));
    mailer
        .send(&mail(&format!("Messaging <{sender}>"), &subject))
        .await
        .expect("SES accepts it");

    // What moto's SES accepted (the harness's window on it: infra/test-services/moto_server.py).
    let sent: Value = reqwest::get(format!("{}/_harness/ses/sent", aws_endpoint()))
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let ours: Vec<&Value> = sent["sent"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|m| m["subject"] == subject.as_str())
        .collect();
    assert_eq!(ours.len(), 1, "{sent}");
    assert!(ours[0]["source"].as_str().unwrap().contains(&sender));
    assert_eq!(ours[0]["destinations"]["ToAddresses"][0], "client.ana@example.com");
    assert!(ours[0]["body"].as_str().unwrap().contains("the plan is ready"));

    let refused = mailer
        .send(&mail("Nobody <nobody@unverified.example.com>", "never"))
        .await
        .unwrap_err();
    assert!(matches!(refused, SendFailure::Refused(_)), "{refused:?}");
}
