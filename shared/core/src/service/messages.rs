//! Messages: history, send, edit, delete, read watermarks, reports.

use super::Messaging;
use crate::error::Error;
use crate::events::ServerEvent;
use crate::identity::Identity;
use crate::ids::{ClientMessageId, ConversationId, FileId, MessageId, ReportId, UserId};
use crate::limits::Action;
use crate::model::{Appended, ConversationStatus, Message, MessageRange, NewMessage, Reply, Report, ReportStatus};
use crate::text::{MessageBody, ReportReason};
use crate::time::Timestamp;
use crate::views::{MessagePage, MessageView, QuoteView, ReadReceiptView, ReportView};

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SendMessage {
    pub body: MessageBody,
    pub client_message_id: ClientMessageId,
    /// Uploads to attach (at most five), confirmed before the message is stored.
    pub file_ids: Vec<FileId>,
    /// The message this one replies to (quotes), in the same conversation.
    pub reply_to: Option<MessageId>,
}

impl Messaging {
    /// A page of history ([`MessageRange::parse`] reads `before` / `after` / `limit`).
    pub async fn list_messages(
        &self,
        who: &Identity,
        conversation: &ConversationId,
        range: MessageRange,
    ) -> Result<MessagePage, Error> {
        self.require_reader(who, conversation).await?;
        let store = &self.ports.store;
        let mut page = match range {
            MessageRange::Before { seq: 0, .. } => MessagePage {
                items: Vec::new(),
                has_more: false,
            },
            MessageRange::Before { .. } | MessageRange::Latest { .. } => {
                older_page(store.list_messages(conversation, range).await?)
            }
            MessageRange::After { seq, limit } => {
                // One extra row tells whether more follow, without reading the conversation.
                let mut items = store
                    .list_messages(conversation, MessageRange::After { seq, limit: limit + 1 })
                    .await?;
                let has_more = items.len() > limit;
                items.truncate(limit);
                MessagePage {
                    items: items.iter().map(MessageView::from).collect(),
                    has_more,
                }
            }
        };
        self.name_messages(&mut page.items).await;
        Ok(page)
    }

    /// Sends a message. Returns the stored message and whether this call created it (a
    /// retry with the same client message id returns the original and creates nothing).
    pub async fn send_message(
        &self,
        who: &Identity,
        conversation: &ConversationId,
        req: SendMessage,
    ) -> Result<(MessageView, bool), Error> {
        // Both one registry round trip; side by side.
        let (members, ()) = futures::try_join!(self.require_member(who, conversation), self.spend(who, Action::Send))?;
        let files = match self.confirm_attachments(who, conversation, &req.file_ids).await {
            Ok(files) => files,
            // A retry of a send with attachments finds its files already attached: answer
            // with the original. Looked up only here, so a first send pays nothing for it.
            Err(refused) => {
                let store = &self.ports.store;
                return match store
                    .find_by_client_id(conversation, &who.user_id, &req.client_message_id)
                    .await?
                {
                    Some(existing) => Ok((self.named(&existing).await, false)),
                    None => Err(refused),
                };
            }
        };
        // The quoted message: it must be there, and not deleted.
        let original = match &req.reply_to {
            None => None,
            Some(id) => match self.ports.store.get_message(conversation, id).await? {
                Some(m) if m.is_deleted() => {
                    return Err(Error::conflict("message_deleted", "the message replied to was deleted"));
                }
                Some(m) => Some(m),
                None => return Err(Error::invalid("replyToId", "is not a message of this conversation")),
            },
        };
        self.set_files_attached(conversation, &files, true).await?;
        let mentions = self.mentions(req.body.as_str(), &members).await;
        let new = NewMessage {
            id: MessageId::generate(),
            conversation_id: conversation.clone(),
            sender_id: who.user_id.clone(),
            sender_name: who.name.clone(),
            body: req.body,
            client_message_id: req.client_message_id,
            created_at: Timestamp::now(),
            files: files.clone(),
            mentions,
            reply: original.as_ref().map(Reply::to),
        };
        let appended = match self.ports.store.append_message(new).await {
            Ok(appended) => appended,
            Err(e) => {
                self.set_files_attached(conversation, &files, false).await?;
                return Err(e.into());
            }
        };
        match appended {
            Appended::Existing(message) => {
                let unclaimed: Vec<_> = files.into_iter().filter(|f| !message.files.contains(f)).collect();
                self.set_files_attached(conversation, &unclaimed, false).await?;
                Ok((self.named(&message).await, false))
            }
            Appended::Created(message) => {
                let mut view = MessageView::from(&message);
                view.quote = original.as_ref().map(QuoteView::from);
                tracing::info!(conversation = %conversation, seq = message.seq, "message stored");
                let event = ServerEvent::NewMessage {
                    conversation_id: conversation.clone(),
                    message: view.clone(),
                };
                self.deliver_in_order(conversation, message.seq, &members, event).await;
                // Sending ends typing; the others see "stopped" right away. Side by side
                // with opening the notification burst (one registry claim each) and
                // indexing the message for search.
                futures::join!(
                    self.stop_typing_quietly(who, conversation, &members),
                    self.open_burst(&message),
                    self.index_message(&message)
                );
                Ok((view, true))
            }
        }
    }

    /// The members `body` mentions (only looked up when it has an `@`). A directory
    /// failure costs the mentions, not the send.
    async fn mentions(&self, body: &str, members: &[UserId]) -> Vec<UserId> {
        if !body.contains('@') {
            return Vec::new();
        }
        match self.ports.directory.profiles(members).await {
            Ok(profiles) => {
                let people: Vec<(UserId, String)> = profiles.into_iter().map(|p| (p.user_id, p.name)).collect();
                crate::notify::mentions_in(body, &people)
            }
            Err(e) => {
                tracing::warn!(error = %e, "directory unavailable; no mentions resolved");
                Vec::new()
            }
        }
    }

    /// Edits the caller's own message; the old body goes to the audit trail.
    pub async fn edit_message(
        &self,
        who: &Identity,
        conversation: &ConversationId,
        id: &MessageId,
        body: MessageBody,
    ) -> Result<MessageView, Error> {
        let members = self.require_member(who, conversation).await?;
        let current = self.message_in(conversation, id).await?;
        if current.sender_id != who.user_id {
            return Err(Error::forbidden("only the sender can edit a message"));
        }
        let status = self.stored_conversation(conversation).await?.status;
        if status == ConversationStatus::Closed {
            return Err(Error::conflict("conversation_closed", "the conversation is closed"));
        }
        // Editing to the body it already has changes nothing: a client retrying an edit
        // whose answer it never got must not record a second revision.
        if current.body.as_deref() == Some(body.as_str()) {
            return Ok(self.named(&current).await);
        }
        let edited = self
            .ports
            .store
            .edit_message(conversation, id, &body, &who.user_id, Timestamp::now())
            .await?;
        self.index_message(&edited).await;
        let view = self.named(&edited).await;
        self.publish_to_users(
            &members,
            &ServerEvent::MessageUpdated {
                conversation_id: conversation.clone(),
                message: view.clone(),
            },
        )
        .await;
        Ok(view)
    }

    /// Soft-deletes a message: its sender may, and admins may delete any.
    pub async fn delete_message(
        &self,
        who: &Identity,
        conversation: &ConversationId,
        id: &MessageId,
    ) -> Result<MessageView, Error> {
        let members = self.require_reader(who, conversation).await?;
        let current = self.message_in(conversation, id).await?;
        if current.sender_id != who.user_id && !who.is_admin() {
            return Err(Error::forbidden("only the sender or an admin can delete a message"));
        }
        let deleted = self
            .ports
            .store
            .delete_message(conversation, id, &who.user_id, Timestamp::now())
            .await?;
        self.index_message(&deleted).await;
        let view = self.named(&deleted).await;
        if current.deleted_at.is_none() {
            self.publish_to_users(
                &members,
                &ServerEvent::MessageUpdated {
                    conversation_id: conversation.clone(),
                    message: view.clone(),
                },
            )
            .await;
            self.unpin_deleted(&members, conversation, deleted.seq, &who.user_id)
                .await;
        }
        Ok(view)
    }

    /// Moves the caller's read watermark forward to `seq` (default: the newest message).
    pub async fn mark_read(
        &self,
        who: &Identity,
        conversation: &ConversationId,
        seq: Option<u64>,
    ) -> Result<ReadReceiptView, Error> {
        let members = self.require_member(who, conversation).await?;
        let last_seq = self.stored_conversation(conversation).await?.last_seq;
        let seq = seq.unwrap_or(last_seq);
        if seq > last_seq {
            return Err(Error::invalid(
                "seq",
                format!("is beyond the newest message ({last_seq})"),
            ));
        }
        let before = self
            .ports
            .store
            .receipts_of(&who.user_id, std::slice::from_ref(conversation))
            .await?;
        let previous = before.first().map_or(0, |r| r.last_read_seq);
        let receipt = self
            .ports
            .store
            .mark_read(conversation, &who.user_id, seq, Timestamp::now())
            .await?;
        if receipt.last_read_seq > previous {
            self.publish_to_users(
                &members,
                &ServerEvent::MessageRead {
                    conversation_id: conversation.clone(),
                    user_id: who.user_id.clone(),
                    last_read_seq: receipt.last_read_seq,
                    read_at: receipt.read_at,
                },
            )
            .await;
        }
        Ok(ReadReceiptView::from(&receipt))
    }

    /// Reports someone else's message to the moderators. Once per reporter per message.
    pub async fn report_message(
        &self,
        who: &Identity,
        conversation: &ConversationId,
        id: &MessageId,
        reason: ReportReason,
    ) -> Result<ReportView, Error> {
        self.require_member(who, conversation).await?;
        self.spend(who, Action::Reports).await?;
        let message = self.message_in(conversation, id).await?;
        if message.sender_id == who.user_id {
            return Err(Error::invalid("messageId", "you cannot report your own message"));
        }
        let report = Report {
            id: ReportId::generate(),
            conversation_id: conversation.clone(),
            message_id: id.clone(),
            message_seq: message.seq,
            reporter_id: who.user_id.clone(),
            reason: reason.into(),
            status: ReportStatus::Open,
            created_at: Timestamp::now(),
            resolved_by: None,
            resolved_at: None,
            resolution_note: None,
        };
        self.ports.store.create_report(&report).await.map_err(|e| match e {
            crate::error::StoreError::AlreadyExists => {
                Error::conflict("already_reported", "you already reported this message")
            }
            other => other.into(),
        })?;
        tracing::info!(report = %report.id, conversation = %conversation, "message reported");
        Ok(ReportView::from(&report))
    }

    /// A message's view, its sender named as the directory does now.
    pub(crate) async fn named(&self, message: &Message) -> MessageView {
        let mut view = [MessageView::from(message)];
        self.name_messages(&mut view).await;
        let [view] = view;
        view
    }

    pub(crate) async fn message_in(&self, conversation: &ConversationId, id: &MessageId) -> Result<Message, Error> {
        self.ports
            .store
            .get_message(conversation, id)
            .await?
            .ok_or(Error::NotFound("message"))
    }
}

/// A page read backwards: seqs are gapless from 1, so older messages exist exactly when
/// the oldest one on the page is not seq 1.
fn older_page(items: Vec<Message>) -> MessagePage {
    let has_more = items.first().is_some_and(|m| m.seq > 1);
    MessagePage {
        items: items.iter().map(MessageView::from).collect(),
        has_more,
    }
}
