"""Device / user-agent families."""

from __future__ import annotations

import pytest

from seamwatch.udfs.useragent import device_family

CHROME_MAC = (
    "Mozilla/5.0 (Macintosh; Intel Mac OS X 10_15_7) AppleWebKit/537.36 (KHTML, like Gecko) "
    "Chrome/120.0.0.0 Safari/537.36"
)


@pytest.mark.parametrize(
    ("user_agent", "family"),
    [
        (None, None),
        ("", None),
        ("   ", None),
        (CHROME_MAC, "Chrome/macOS"),
        (CHROME_MAC.replace("120.0.0.0", "121.0.6167.85"), "Chrome/macOS"),
        (
            "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) "
            "Chrome/120.0.0.0 Safari/537.36 Edg/120.0.2210.91",
            "Edge/Windows",
        ),
        (
            "Mozilla/5.0 (X11; Ubuntu; Linux x86_64; rv:121.0) Gecko/20100101 Firefox/121.0",
            "Firefox/Linux",
        ),
        (
            "Mozilla/5.0 (iPhone; CPU iPhone OS 17_2 like Mac OS X) AppleWebKit/605.1.15 "
            "(KHTML, like Gecko) Version/17.2 Mobile/15E148 Safari/604.1",
            "Safari/iOS",
        ),
        (
            "Mozilla/5.0 (Linux; Android 14; Pixel 8) AppleWebKit/537.36 (KHTML, like Gecko) "
            "Chrome/120.0.6099.144 Mobile Safari/537.36",
            "Chrome/Android",
        ),
        (
            "Mozilla/5.0 (Macintosh; Intel Mac OS X 14_2) AppleWebKit/605.1.15 (KHTML, like "
            "Gecko) Version/17.2 Safari/605.1.15",
            "Safari/macOS",
        ),
        (
            "aws-cli/2.13.0 Python/3.11.4 Darwin/22.5.0 exe/x86_64 prompt/off command/s3.ls",
            "aws-cli",
        ),
        ("aws-cli/1.18.69 Python/3.8.10 Linux/5.4.0 botocore/1.17.29", "aws-cli"),
        (
            "Boto3/1.28.0 md/Botocore#1.31.0 ua/2.0 os/linux#5.10 md/arch#x86_64 lang/python#3.11"
            " cfg/retry-mode#legacy Botocore/1.31.0",
            "Boto3",
        ),
        ("Botocore/1.31.0 Python/3.11.4 Linux/5.10", "botocore"),
        ("aws-sdk-go/1.44.122 (go1.20.3; linux; amd64)", "aws-sdk-go"),
        ("aws-sdk-go-v2/1.24.0 os/linux lang/go#1.21.5 md/GOOS#linux", "aws-sdk-go-v2"),
        ("aws-sdk-java/1.12.500 Linux/5.10 OpenJDK_64-Bit_Server_VM/17", "aws-sdk-java"),
        ("aws-sdk-js/3.470.0 ua/2.0 os/darwin#23.1.0 lang/js md/nodejs#20.10.0", "aws-sdk-js"),
        (
            "APN/1.0 HashiCorp/1.0 Terraform/1.6.6 (+https://www.terraform.io) "
            "terraform-provider-aws/5.31.0 aws-sdk-go-v2/1.24.0 os/linux",
            "Terraform",
        ),
        ("AWS Internal", "AWS Internal"),
        ("aws-internal/3 aws-sdk-java/1.12.500 Linux/5.10", "AWS Internal"),
        ("[S3Console/0.4, aws-internal/3 aws-sdk-java/1.12.488]", "console"),
        ("console.amazonaws.com", "console"),
        ("signin.amazonaws.com", "console"),
        ("cloudformation.amazonaws.com", "AWS Internal"),
        ("python-requests/2.31.0", "python-requests"),
        ("curl/8.4.0", "curl"),
        ("something strange", "other"),
    ],
)
def test_device_family(user_agent: str | None, family: str | None) -> None:
    assert device_family(user_agent) == family
