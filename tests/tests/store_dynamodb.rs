//! The store conformance suite on the DynamoDB adapter, against `AWS_ENDPOINT_URL`
//! (moto by default; LocalStack or AWS work the same).

integration_tests::store_conformance_tests!(integration_tests::fixtures::dynamo_fixture);

/// Starting again on tables that exist is a no-op, however many other tables the account
/// holds: ListTables pages at 100 names, and a gateway restarted against a busy account
/// (or moto after the whole suite) once failed with "Table already exists".
#[tokio::test]
async fn creating_the_tables_again_finds_them_beyond_the_first_page_of_names() {
    use aws_sdk_dynamodb::types::{AttributeDefinition, BillingMode, KeySchemaElement, KeyType, ScalarAttributeType};
    let client = aws_sdk_dynamodb::Client::new(&integration_tests::services::aws_config().await);
    let run = integration_tests::services::unique("pages");
    // 101 tables whose names sort before ours: ours are on the second page at least.
    for i in 0..101 {
        client
            .create_table()
            .table_name(format!("0-{run}-{i:03}"))
            .key_schema(
                KeySchemaElement::builder()
                    .attribute_name("k")
                    .key_type(KeyType::Hash)
                    .build()
                    .unwrap(),
            )
            .attribute_definitions(
                AttributeDefinition::builder()
                    .attribute_name("k")
                    .attribute_type(ScalarAttributeType::S)
                    .build()
                    .unwrap(),
            )
            .billing_mode(BillingMode::PayPerRequest)
            .send()
            .await
            .expect("a filler table");
    }
    let names = messaging_aws::TableNames::with_prefix(&format!("z-{run}-"));
    messaging_aws::create_tables(&client, &names)
        .await
        .expect("first start");
    messaging_aws::create_tables(&client, &names)
        .await
        .expect("a restart on the same tables");
}
