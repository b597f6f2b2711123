//! Every REST route, as data. The OpenAPI document, the SAM template and the permission
//! matrix test are each checked against this table, so none of them can miss a route.

/// Which Lambda function serves a route.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Function {
    /// `functions/messaging-api`: members' routes.
    MessagingApi,
    /// `functions/admin-api`: admin oversight.
    AdminApi,
}

impl Function {
    pub const ALL: [Function; 2] = [Function::MessagingApi, Function::AdminApi];

    /// The binary (and `functions/` crate) of the function.
    pub fn binary(self) -> &'static str {
        match self {
            Function::MessagingApi => "messaging-api",
            Function::AdminApi => "admin-api",
        }
    }
}

/// Who may call a route (beyond being authenticated).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Access {
    /// Any authenticated user (acts on their own data).
    Anyone,
    /// Members of the conversation in the path (admins too, where they oversee).
    Member,
    /// Admins only.
    Admin,
    /// Anyone, signed in or not: the route carries its own proof (a signed token).
    Public,
}

#[derive(Debug, Clone, Copy)]
pub struct Route {
    pub method: &'static str,
    pub path: &'static str,
    pub operation_id: &'static str,
    pub function: Function,
    pub access: Access,
}

const fn r(
    method: &'static str,
    path: &'static str,
    operation_id: &'static str,
    function: Function,
    access: Access,
) -> Route {
    Route {
        method,
        path,
        operation_id,
        function,
        access,
    }
}

use Access::*;
use Function::*;

#[rustfmt::skip]
pub const ROUTES: &[Route] = &[
    r("GET", "/api/messaging/me", "getMe", MessagingApi, Anyone),
    r("PATCH", "/api/messaging/me", "renameMe", MessagingApi, Anyone),
    r("GET", "/api/messaging/people", "searchPeople", MessagingApi, Anyone),
    r("GET", "/api/messaging/conversations", "listConversations", MessagingApi, Anyone),
    r("POST", "/api/messaging/conversations", "createConversation", MessagingApi, Anyone),
    r("GET", "/api/messaging/conversations/{id}", "getConversation", MessagingApi, Member),
    r("PATCH", "/api/messaging/conversations/{id}", "renameConversation", MessagingApi, Member),
    r("POST", "/api/messaging/conversations/{id}/participants", "addParticipants", MessagingApi, Member),
    r("DELETE", "/api/messaging/conversations/{id}/participants/{userId}", "removeParticipant", MessagingApi, Member),
    r("GET", "/api/messaging/conversations/{id}/messages", "listMessages", MessagingApi, Member),
    r("POST", "/api/messaging/conversations/{id}/messages", "sendMessage", MessagingApi, Member),
    r("PATCH", "/api/messaging/conversations/{id}/messages/{messageId}", "editMessage", MessagingApi, Member),
    r("DELETE", "/api/messaging/conversations/{id}/messages/{messageId}", "deleteMessage", MessagingApi, Member),
    r("POST", "/api/messaging/conversations/{id}/messages/{messageId}/report", "reportMessage", MessagingApi, Member),
    r("PUT", "/api/messaging/conversations/{id}/messages/{messageId}/reactions", "addReaction", MessagingApi, Member),
    r("DELETE", "/api/messaging/conversations/{id}/messages/{messageId}/reactions", "removeReaction", MessagingApi, Member),
    r("PUT", "/api/messaging/conversations/{id}/messages/{messageId}/pin", "pinMessage", MessagingApi, Member),
    r("DELETE", "/api/messaging/conversations/{id}/messages/{messageId}/pin", "unpinMessage", MessagingApi, Member),
    r("GET", "/api/messaging/conversations/{id}/pins", "listPins", MessagingApi, Member),
    r("GET", "/api/messaging/conversations/{id}/messages/{messageId}/thread", "getThread", MessagingApi, Member),
    r("POST", "/api/messaging/conversations/{id}/read", "markRead", MessagingApi, Member),
    r("PATCH", "/api/messaging/conversations/{id}/preferences", "setPreferences", MessagingApi, Member),
    r("POST", "/api/messaging/conversations/{id}/attachments", "requestUploads", MessagingApi, Member),
    r("GET", "/api/messaging/conversations/{id}/files/{fileId}", "downloadFile", MessagingApi, Member),
    r("POST", "/api/messaging/ws-ticket", "issueWebSocketTicket", MessagingApi, Anyone),
    r("GET", "/api/messaging/me/notifications", "getNotificationSettings", MessagingApi, Anyone),
    r("PUT", "/api/messaging/me/notifications", "setNotificationSettings", MessagingApi, Anyone),
    r("GET", "/api/messaging/push/config", "getPushConfig", MessagingApi, Anyone),
    r("GET", "/api/messaging/me/push-subscriptions", "listPushSubscriptions", MessagingApi, Anyone),
    r("POST", "/api/messaging/me/push-subscriptions", "addPushSubscription", MessagingApi, Anyone),
    r("DELETE", "/api/messaging/me/push-subscriptions/{subscriptionId}", "removePushSubscription", MessagingApi, Anyone),
    r("POST", "/api/messaging/unsubscribe", "unsubscribe", MessagingApi, Public),
    r("GET", "/api/messaging/search", "searchMessages", MessagingApi, Anyone),
    r("GET", "/api/admin/messaging/conversations", "adminListConversations", AdminApi, Admin),
    r("GET", "/api/admin/messaging/conversations/{id}/messages", "adminListMessages", AdminApi, Admin),
    r("GET", "/api/admin/messaging/conversations/{id}/messages/{messageId}/audit", "adminMessageAudit", AdminApi, Admin),
    r("PATCH", "/api/admin/messaging/conversations/{id}/status", "adminSetStatus", AdminApi, Admin),
    r("GET", "/api/admin/messaging/conversations/{id}/participants", "adminListParticipants", AdminApi, Admin),
    r("GET", "/api/admin/messaging/users", "adminListUsers", AdminApi, Admin),
    r("PATCH", "/api/admin/messaging/users/{userId}", "adminSetUserState", AdminApi, Admin),
    r("GET", "/api/admin/messaging/reports", "adminListReports", AdminApi, Admin),
    r("PATCH", "/api/admin/messaging/reports/{id}", "adminResolveReport", AdminApi, Admin),
    r("GET", "/api/admin/messaging/search", "adminSearchMessages", AdminApi, Admin),
];

/// The function that serves `path` (by prefix, as the API Gateway resources are laid out).
pub fn function_for(path: &str) -> Option<Function> {
    if path.starts_with("/api/admin/messaging/") {
        Some(AdminApi)
    } else if path.starts_with("/api/messaging/") {
        Some(MessagingApi)
    } else {
        None
    }
}
