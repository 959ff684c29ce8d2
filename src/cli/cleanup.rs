//! `a4b-audit cleanup-legacy`: deletes the `SUMMARY#…` summaries and `FILE#…` markers that earlier
//! versions wrote (see [`DynamoDbLedger::delete_legacy_items`]).

use super::args::CleanupArgs;
use super::clients;
use super::error::CliError;
use crate::ledger::DynamoDbLedger;

pub async fn run(args: CleanupArgs) -> Result<(), CliError> {
    let table_name = clients::table_name(&args.table)?;
    let sdk_config = clients::sdk_config().await?;
    let region = clients::region_name(&sdk_config);
    let client = crate::aws::dynamodb_read_client(&sdk_config);
    clients::check_table(&client, &table_name, &region).await?;
    let cleanup = DynamoDbLedger::new(client, &table_name)
        .delete_legacy_items(!args.dry_run)
        .await
        .map_err(|error| CliError::Aws(error.to_string()))?;
    if args.dry_run {
        note!(
            "{} legacy item(s) found in table {table_name} ({} scan page(s)); nothing deleted (--dry-run)",
            cleanup.items_found,
            cleanup.scan_pages
        );
    } else {
        note!(
            "{} legacy item(s) deleted from table {table_name} ({} scan page(s), {} BatchWriteItem request(s))",
            cleanup.items_deleted,
            cleanup.scan_pages,
            cleanup.delete_requests
        );
    }
    Ok(())
}
