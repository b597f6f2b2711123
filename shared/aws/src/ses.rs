//! Email through SES v2 (`SendEmail`, simple content: subject, text and HTML bodies and
//! the `List-Unsubscribe` headers). The sender address must be a verified SES identity
//! (the template's `NotificationSender` parameter).

use async_trait::async_trait;
use aws_sdk_sesv2::Client;
use aws_sdk_sesv2::error::{DisplayErrorContext, ProvideErrorMetadata};
use aws_sdk_sesv2::types::{Body, Content, Destination, EmailContent, Message, MessageHeader};

use messaging_core::notify::Mail;
use messaging_core::ports::{Mailer, SendFailure};

pub struct SesMailer {
    client: Client,
    /// An SES configuration set (bounces, complaints, sending statistics), if any.
    configuration_set: Option<String>,
}

impl SesMailer {
    pub fn new(sdk: &aws_config::SdkConfig, configuration_set: Option<String>) -> Self {
        Self {
            client: Client::new(sdk),
            configuration_set,
        }
    }
}

fn content(text: &str) -> Result<Content, SendFailure> {
    Content::builder()
        .data(text)
        .charset("UTF-8")
        .build()
        .map_err(|e| SendFailure::Refused(e.to_string()))
}

#[async_trait]
impl Mailer for SesMailer {
    async fn send(&self, mail: &Mail) -> Result<(), SendFailure> {
        let mut message = Message::builder().subject(content(&mail.subject)?).body(
            Body::builder()
                .text(content(&mail.text)?)
                .html(content(&mail.html)?)
                .build(),
        );
        for (name, value) in &mail.headers {
            let header = MessageHeader::builder()
                .name(name)
                .value(value)
                .build()
                .map_err(|e| SendFailure::Refused(e.to_string()))?;
            message = message.headers(header);
        }
        let result = self
            .client
            .send_email()
            .from_email_address(&mail.from)
            .destination(Destination::builder().to_addresses(&mail.to).build())
            .content(EmailContent::builder().simple(message.build()).build())
            .set_configuration_set_name(self.configuration_set.clone())
            .send()
            .await;
        match result {
            Ok(_) => Ok(()),
            Err(e) => {
                let code = e.code().unwrap_or_default().to_owned();
                let detail = DisplayErrorContext(&e).to_string();
                // Refusals of this message (a bad address, an unverified sender, a
                // suppressed recipient) do not get better with retries; throttling and
                // outages do.
                if matches!(
                    code.as_str(),
                    "MessageRejected"
                        | "BadRequestException"
                        | "MailFromDomainNotVerifiedException"
                        | "NotFoundException"
                        | "AccountSuspendedException"
                        | "SendingPausedException"
                ) {
                    Err(SendFailure::Refused(detail))
                } else {
                    Err(SendFailure::Temporary(detail))
                }
            }
        }
    }
}
