//! Admin oversight: every conversation, status changes, participants, the reports queue,
//! and a message's audit trail.

use super::{Messaging, require_admin};
use crate::cursor::Cursor;
use crate::error::{Error, StoreError};
use crate::events::ConversationChange;
use crate::identity::Identity;
use crate::ids::{ConversationId, MessageId, ReportId};
use crate::model::{ConversationQuery, ConversationStatus, LIST_PAGE, ReportStatus};
use crate::text::ResolutionNote;
use crate::time::Timestamp;
use crate::views::{ConversationView, ListPage, MessageAudit, ParticipantView, ReportView};

impl Messaging {
    pub async fn admin_search_conversations(
        &self,
        who: &Identity,
        query: &ConversationQuery,
    ) -> Result<ListPage<ConversationView>, Error> {
        require_admin(who)?;
        let page = self.ports.store.search_conversations(query).await?;
        let mut items: Vec<ConversationView> = page.items.iter().map(ConversationView::from).collect();
        self.name_previews(items.iter_mut()).await;
        Ok(ListPage {
            items,
            next_cursor: page.next_cursor,
        })
    }

    /// Opens, archives or closes a conversation. Closed conversations refuse new messages.
    pub async fn admin_set_status(
        &self,
        who: &Identity,
        id: &ConversationId,
        status: ConversationStatus,
    ) -> Result<ConversationView, Error> {
        require_admin(who)?;
        let conversation = self.ports.store.set_status(id, status, Timestamp::now()).await?;
        tracing::info!(conversation = %id, status = %status, by = %who.user_id, "status changed");
        self.announce_conversation(&conversation, ConversationChange::Status, &[])
            .await?;
        let mut view = ConversationView::from(&conversation);
        self.name_previews([&mut view]).await;
        Ok(view)
    }

    pub async fn admin_participants(&self, who: &Identity, id: &ConversationId) -> Result<Vec<ParticipantView>, Error> {
        require_admin(who)?;
        self.stored_conversation(id).await?;
        let participants = self.ports.store.list_participants(id).await?;
        self.participant_views(id, &participants).await
    }

    pub async fn admin_list_reports(
        &self,
        who: &Identity,
        status: Option<ReportStatus>,
        cursor: Option<&Cursor>,
        limit: Option<usize>,
    ) -> Result<ListPage<ReportView>, Error> {
        require_admin(who)?;
        let page = self
            .ports
            .store
            .list_reports(status, cursor, LIST_PAGE.parse(limit)?)
            .await?;
        Ok(ListPage {
            items: page.items.iter().map(ReportView::from).collect(),
            next_cursor: page.next_cursor,
        })
    }

    /// Resolves an open report; `delete_message` also removes the reported message.
    pub async fn admin_resolve_report(
        &self,
        who: &Identity,
        id: &ReportId,
        status: ReportStatus,
        note: Option<ResolutionNote>,
        delete_message: bool,
    ) -> Result<ReportView, Error> {
        require_admin(who)?;
        if status == ReportStatus::Open {
            return Err(Error::invalid("status", "must be actioned or dismissed"));
        }
        if delete_message && status != ReportStatus::Actioned {
            return Err(Error::invalid(
                "deleteMessage",
                "only an actioned report can delete its message",
            ));
        }
        // Delete first: a failed delete leaves the report open to retry; a report resolved
        // before its message is gone could not be resolved again.
        if delete_message {
            let open = self
                .ports
                .store
                .get_report(id)
                .await?
                .ok_or(StoreError::ReportNotFound)?;
            if open.status != ReportStatus::Open {
                return Err(StoreError::ReportAlreadyResolved.into());
            }
            self.delete_message(who, &open.conversation_id, &open.message_id)
                .await?;
        }
        let note = note.as_ref().map(|n| n.as_str());
        let report = self
            .ports
            .store
            .resolve_report(id, status, &who.user_id, Timestamp::now(), note)
            .await?;
        tracing::info!(report = %id, status = %status, by = %who.user_id, "report resolved");
        Ok(ReportView::from(&report))
    }

    /// A message with every body it ever had (moderation needs what was said).
    pub async fn admin_message_audit(
        &self,
        who: &Identity,
        conversation: &ConversationId,
        id: &MessageId,
    ) -> Result<MessageAudit, Error> {
        require_admin(who)?;
        let message = self.message_in(conversation, id).await?;
        let mut audit = MessageAudit::from(&message);
        self.name_messages(std::slice::from_mut(&mut audit.message)).await;
        Ok(audit)
    }
}
