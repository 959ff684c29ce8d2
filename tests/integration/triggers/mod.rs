//! Every trigger of SPEC section 1b through the real binary behind the runtime API emulator,
//! against moto: the same mix of good and bad objects gives the items of the SNS path and exactly
//! the failure report the trigger expects.

mod eventbridge;
mod map_batch;
mod s3_batch;
mod s3_event;
mod sqs;

use std::time::Duration;

use a4b_audit::object::PipelineOptions;
use a4b_audit_devtools::lambda_process::LambdaProcess;
use a4b_audit_devtools::runtime_api::{Outcome, RuntimeApi};
use serde_json::Value;

use crate::harness::{TestEnv, cloudtrail_event, invoke, log_key};
use crate::lambda_binary::{binary, lambda_env};
use crate::oracle::ComparableItem;

const DEADLINE: Duration = Duration::from_secs(60);
/// Less than the function's deadline margin (5 s): no object is started.
const TOO_SHORT: Duration = Duration::from_secs(3);

/// The mix every trigger test delivers: the sample logs, a damaged object, a key with no object
/// and a digest file's key.
pub struct Mix {
    pub good: Vec<String>,
    pub corrupt: String,
    pub missing: String,
    pub digest: String,
}

/// A test's bucket holding the mix, and the real binary writing to the test's table.
pub struct TriggerEnv {
    pub env: TestEnv,
    pub mix: Mix,
    runtime: RuntimeApi,
    process: LambdaProcess,
}

impl TriggerEnv {
    pub async fn start(test_name: &str) -> TriggerEnv {
        let env = TestEnv::new(test_name).await;
        let good = env.put_sample_logs().await;
        let corrupt = log_key(90);
        env.put(&corrupt, b"not gzip, not json".to_vec()).await;
        let mix = Mix {
            good,
            corrupt,
            missing: log_key(91),
            digest: "AWSLogs/123456789012/CloudTrail-Digest/us-east-1/2023/07/10/123456789012_CloudTrail-Digest_us-east-1_a4b-trail_us-east-1_20230710T131500Z.json.gz".to_owned(),
        };
        let runtime = RuntimeApi::start().await.unwrap();
        let process =
            LambdaProcess::spawn(binary(), &runtime, &lambda_env(&env, &env.table)).unwrap();
        TriggerEnv {
            env,
            mix,
            runtime,
            process,
        }
    }

    /// The function's answer to `payload`: `Ok(response)` or `Err((errorType, errorMessage))`.
    pub async fn invoke(&self, payload: Value) -> Result<Value, (String, String)> {
        self.invoke_within(payload, DEADLINE).await
    }

    /// As [`TriggerEnv::invoke`], with a deadline too short to start any object.
    pub async fn invoke_too_close_to_the_deadline(
        &self,
        payload: Value,
    ) -> Result<Value, (String, String)> {
        self.invoke_within(payload, TOO_SHORT).await
    }

    async fn invoke_within(
        &self,
        payload: Value,
        deadline: Duration,
    ) -> Result<Value, (String, String)> {
        let invocation = self
            .runtime
            .invoke(payload, deadline)
            .await
            .unwrap_or_else(|error| panic!("{error}\n{}", self.process.output()));
        match invocation.outcome {
            Outcome::Response(response) => Ok(response),
            Outcome::Error(error) => Err((error.error_type, error.error_message)),
        }
    }

    /// Asserts that the table holds exactly what the SNS path writes for the good objects.
    pub async fn assert_items_are_those_of_the_sns_path(&self) {
        let sns_table = self.env.another_table("sns-path").await;
        let mut config = self.env.config();
        config.table_name = sns_table.clone();
        let pipeline =
            crate::harness::pipeline_at(&self.env.endpoint, config, PipelineOptions::default())
                .await;
        let summary = invoke(
            &pipeline,
            cloudtrail_event(&self.env.bucket, &[&self.mix.good]),
        )
        .await
        .expect("the SNS path processes the good objects");
        assert_eq!(summary.objects_processed, self.mix.good.len() as u64);
        let sns_items = comparable(self.env.items_in(&sns_table).await);
        assert!(!sns_items.is_empty());
        assert_eq!(self.env.comparable_items().await, sns_items);
    }

    pub async fn stop(mut self) {
        assert!(
            self.process.exit_status().is_none(),
            "the process keeps serving:\n{}",
            self.process.output()
        );
        self.process.stop().await;
    }
}

fn comparable(items: Vec<crate::harness::TableItem>) -> Vec<ComparableItem> {
    items
        .iter()
        .filter(|item| crate::harness::is_event_item(item))
        .map(crate::oracle::comparable)
        .collect()
}
