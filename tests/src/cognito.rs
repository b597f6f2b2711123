//! A Cognito user pool at the test endpoint (moto here; LocalStack or AWS elsewhere),
//! shaped as the template's: groups `admin` and `team`, the custom attributes
//! `organisation` and `colour`. People are added as an admin adds them.

use aws_sdk_cognitoidentityprovider::Client;
use aws_sdk_cognitoidentityprovider::types::{
    AttributeDataType, AttributeType, MessageActionType, SchemaAttributeType,
};

use messaging_aws::cognito::{COLOUR_ATTRIBUTE, CognitoDirectory, ORGANISATION_ATTRIBUTE};
use messaging_core::directory::Profile;
use messaging_core::identity::Role;

use crate::services::{aws_config, unique};

pub struct TestPool {
    pub client: Client,
    pub pool_id: String,
    sdk: aws_config::SdkConfig,
}

fn attribute(name: &str, value: &str) -> AttributeType {
    AttributeType::builder()
        .name(name)
        .value(value)
        .build()
        .expect("attribute")
}

impl TestPool {
    pub async fn create() -> Self {
        let sdk = aws_config().await;
        let client = Client::new(&sdk);
        let custom = |name: &str| {
            SchemaAttributeType::builder()
                .name(name)
                .attribute_data_type(AttributeDataType::String)
                .mutable(true)
                .build()
        };
        let pool = client
            .create_user_pool()
            .pool_name(unique("pool"))
            .schema(custom("organisation"))
            .schema(custom("colour"))
            .send()
            .await
            .expect("create user pool");
        let pool_id = pool.user_pool().and_then(|p| p.id()).expect("pool id").to_owned();
        for group in ["admin", "team"] {
            client
                .create_group()
                .user_pool_id(&pool_id)
                .group_name(group)
                .send()
                .await
                .expect("create group");
        }
        Self { client, pool_id, sdk }
    }

    pub fn directory(&self) -> CognitoDirectory {
        CognitoDirectory::new(&self.sdk, &self.pool_id)
    }

    /// Adds `p` as an admin would: the user, their group, their state.
    pub async fn add(&self, p: &Profile) {
        let mut create = self
            .client
            .admin_create_user()
            .user_pool_id(&self.pool_id)
            .username(p.user_id.as_str())
            .message_action(MessageActionType::Suppress)
            .user_attributes(attribute("name", &p.name));
        if let Some(email) = &p.email {
            create = create.user_attributes(attribute("email", email));
        }
        if let Some(org) = &p.organisation {
            create = create.user_attributes(attribute(ORGANISATION_ATTRIBUTE, org));
        }
        if let Some(colour) = &p.colour {
            create = create.user_attributes(attribute(COLOUR_ATTRIBUTE, colour));
        }
        create.send().await.expect("admin create user");
        let group = match p.role {
            Role::Admin => Some("admin"),
            Role::Team => Some("team"),
            Role::Client => None,
        };
        if let Some(group) = group {
            self.client
                .admin_add_user_to_group()
                .user_pool_id(&self.pool_id)
                .username(p.user_id.as_str())
                .group_name(group)
                .send()
                .await
                .expect("add to group");
        }
        if !p.active {
            self.client
                .admin_disable_user()
                .user_pool_id(&self.pool_id)
                .username(p.user_id.as_str())
                .send()
                .await
                .expect("disable");
        }
    }
}
