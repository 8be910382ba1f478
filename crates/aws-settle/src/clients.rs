//! The one list of supported SDK clients: cargo feature, module, SDK crate.
//!
//! Everything per client is generated from it: the post-condition [`Attach`](crate::post::Attach)
//! impls and the module of each service's rule table (`post/services/<module>.rs`), the
//! [`coverage`](crate::post::coverage) list, and the [`Instrument`](crate::observe::Instrument)
//! impls. Adding a service is one line here (and its cargo feature) plus its table file.

/// Calls macro `$then!` with every supported client as `(module, "feature", sdk_crate)`.
macro_rules! for_each_client {
    ($then:ident) => {
        $then! {
            (ssm, "ssm", aws_sdk_ssm),
            (secretsmanager, "secretsmanager", aws_sdk_secretsmanager),
            (s3, "s3", aws_sdk_s3),
            (iam, "iam", aws_sdk_iam),
            (dynamodb, "dynamodb", aws_sdk_dynamodb),
            (ec2, "ec2", aws_sdk_ec2),
            (sqs, "sqs", aws_sdk_sqs),
            (sns, "sns", aws_sdk_sns),
            (kms, "kms", aws_sdk_kms),
            (logs, "logs", aws_sdk_cloudwatchlogs),
            (lambda, "lambda", aws_sdk_lambda),
            (route53, "route53", aws_sdk_route53),
        }
    };
}
pub(crate) use for_each_client;
