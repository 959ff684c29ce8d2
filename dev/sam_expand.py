"""Expands a SAM template into the plain CloudFormation that CloudFormation deploys, offline.

    .venv/bin/python dev/sam_expand.py template.yaml [Name=Value ...] > expanded.json

This is what the `AWS::Serverless-2016-10-31` transform does on deploy (the same aws-sam-translator
the SAM CLI pins), run locally so that scripts/lint-template can lint the generated resources
(the function, its event invoke config, the SNS subscription, the permissions) and not only the
`AWS::Serverless::*` shorthand. No AWS account or network is used:
- the region is a dummy (us-east-1) given to the translator's boto3 session;
- managed policies are looked up in an empty map: the template names none (its role is explicit);
- a local `CodeUri` becomes an S3 URI, as `sam package` makes it before a deploy.
The `Name=Value` arguments are the stack's parameter values: the transform resolves some references to
parameters (the event invoke config's retries and event age, for one) to their values, as it does on
deploy; parameters not given take their defaults.
"""

import json
import sys

import boto3
from samtranslator.model.exceptions import InvalidDocumentException
from samtranslator.parser.parser import Parser
from samtranslator.translator.translator import Translator
from samtranslator.yaml_helper import yaml_parse

REGION = "us-east-1"
PACKAGED_CODE_URI = "s3://a4b-audit-lint-placeholder/a4b-audit.zip"


def package_local_code(template):
    """Replaces each local CodeUri with an S3 URI, as `sam package` does before a deploy."""
    for resource in template.get("Resources", {}).values():
        if resource.get("Type") != "AWS::Serverless::Function":
            continue
        properties = resource.setdefault("Properties", {})
        code_uri = properties.get("CodeUri")
        if isinstance(code_uri, str) and not code_uri.startswith("s3://"):
            properties["CodeUri"] = PACKAGED_CODE_URI


def expand(template, parameter_values):
    package_local_code(template)
    translator = Translator(
        managed_policy_map={},
        sam_parser=Parser(),
        boto_session=boto3.session.Session(region_name=REGION),
    )
    return translator.translate(
        sam_template=template,
        parameter_values=parameter_values,
        get_managed_policy_map=lambda: {},
    )


def main():
    if len(sys.argv) < 2 or not all("=" in argument for argument in sys.argv[2:]):
        sys.exit("usage: sam_expand.py <template.yaml> [Name=Value ...]")
    path = sys.argv[1]
    parameter_values = dict(argument.split("=", 1) for argument in sys.argv[2:])
    with open(path, encoding="utf-8") as file:
        template = yaml_parse(file.read())
    try:
        expanded = expand(template, parameter_values)
    except InvalidDocumentException as error:
        for cause in error.causes:
            print(f"{path}: SAM transform: {cause.message}", file=sys.stderr)
        sys.exit(f"{path}: the SAM transform refuses the template ({error.message})")
    json.dump(expanded, sys.stdout, indent=1, sort_keys=False)
    sys.stdout.write("\n")


if __name__ == "__main__":
    main()
