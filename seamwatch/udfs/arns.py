"""ARNs that a CloudTrail record implies but does not write.

Some records name an IAM user only by ``userName`` and ``accountId`` (failed ``ConsoleLogin``,
``CheckMfa``), and ``CreateAccessKey`` names the user a key is for only by
``requestParameters.userName``. An IAM user name is unique within its account, so
``arn:<partition>:iam::<account>:user/<name>`` names that user exactly, unless the user was
created with a path (``user/engineering/alice``): the path is in no such record, so the ARN
built here cannot equal one with a path.

The partition comes from the record's region (``cn-north-1`` is ``aws-cn``, ``us-gov-west-1``
``aws-us-gov``, ...); without a region, or with one of no known partition's shape, it is
``aws``.
"""

from __future__ import annotations

__all__ = ["aws_partition", "iam_user_arn", "root_arn"]

# Region prefixes of the partitions other than "aws", longest first where one prefixes another.
_PARTITIONS: tuple[tuple[str, str], ...] = (
    ("cn-", "aws-cn"),
    ("us-gov-", "aws-us-gov"),
    ("us-isob-", "aws-iso-b"),
    ("us-isof-", "aws-iso-f"),
    ("eu-isoe-", "aws-iso-e"),
    ("us-iso-", "aws-iso"),
    ("eusc-", "aws-eusc"),
)


def aws_partition(region: str | None) -> str:
    """The partition of ``region`` (``awsRegion``): ``aws`` unless the region says otherwise."""
    if region:
        for prefix, partition in _PARTITIONS:
            if region.startswith(prefix):
                return partition
    return "aws"


def iam_user_arn(account: str, user_name: str, region: str | None) -> str:
    """The ARN of the IAM user ``user_name`` of ``account`` (no path, see the module doc)."""
    return f"arn:{aws_partition(region)}:iam::{account}:user/{user_name}"


def root_arn(account: str, region: str | None) -> str:
    """The ARN of the root user of ``account``."""
    return f"arn:{aws_partition(region)}:iam::{account}:root"
