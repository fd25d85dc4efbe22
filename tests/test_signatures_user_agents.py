"""User-agent signatures: real AI-client UAs name the right service on a host the catalog does not know, and the
UAs of ordinary software (browsers, Office, Teams, HTTP libraries, cloud SDKs) name none.

The AI-client UAs are built the way each client's source builds them; the file that does so is cited next to the
pattern in its service file (e.g. openai-python `_base_client.py`, openai/codex `default_client.rs`,
google-gemini/gemini-cli `contentGenerator.ts`). The ordinary UAs are the shapes those programs document or send.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from detector.signatures import Catalog, load_catalog

SIGNATURES = Path(__file__).resolve().parent.parent / "signatures"
GATEWAY = "gateway.example.net"  # a host no rule claims: only the user agent can decide

AI_CLIENTS = [
    # Stainless SDKs: "<client class>/<language> <version>", so the async classes carry an Async prefix.
    ("OpenAI/Python 1.109.1", "openai_api"),
    ("AsyncOpenAI/Python 1.109.1", "openai_api"),
    ("OpenAI/JS 5.23.0", "openai_api"),
    ("OpenAI/Go 2.7.0", "openai_api"),
    ("OpenAI/v1 PythonBindings/0.28.1", "openai_api"),
    ("OpenAI/NodeJS/3.3.0", "openai_api"),
    ("AzureOpenAI/Python 1.54.4", "azure_openai"),
    ("AzureOpenAI/JS 5.23.0", "azure_openai"),
    ("AsyncAnthropic/Python 0.69.0", "anthropic_api"),
    ("Anthropic/Go 1.13.0", "anthropic_api"),
    ("AnthropicBedrock/Python 0.69.0", "aws_bedrock"),
    ("AnthropicVertex/Python 0.69.0", "vertex_ai"),
    ("Groq/Python 0.34.1", "groq"),
    ("AsyncTogether/Python 2.0.0", "together_ai"),
    ("Perplexity/Python 0.20.0", "perplexity_api"),
    ("Cerebras/Python 1.50.1", "cerebras"),
    ("RunwayML/Python 3.6.0", "runway"),
    ("AsyncLumaAI/Python 1.18.1", "luma"),
    ("Writer/Python 2.3.0", "writer"),
    ("exa-py 1.12.1", "exa"),
    ("AI21 studio SDK 3.0.1 Python 3.12.3 Operating System Linux-6.8.0-x86_64-with-glibc2.39", "ai21_api"),
    # Speakeasy SDKs end in the package name; Mistral hosted on Azure is a different package.
    ("speakeasy-sdk/python 1.12.3 2.794.1 1.0.0 mistralai", "mistral_api"),
    ("speakeasy-sdk/typescript 2.8.0 2.935.1 1.0.0 @mistralai/mistralai", "mistral_api"),
    ("mistral-client-python/0.4.2", "mistral_api"),
    ("speakeasy-sdk/python 1.1.34 2.914.0 1.0.0 openrouter", "openrouter"),
    ("google-genai-sdk/1.12.1 gl-python/3.12.3", "google_ai_studio"),
    ("google-genai-sdk/1.41.0 gl-python/3.12.3 vertex-genai-modules/1.120.0", "vertex_ai"),
    ("aws-sdk-js/3.1126.0 ua/2.1 os/linux#6.8.0 lang/js md/nodejs#22.11.0 api/bedrock-runtime#3.1126.0 m/N,E,e",
     "aws_bedrock"),
    ("ollama-python/0.6.1 (x86_64 linux) Python/3.12.3", "ollama"),
    ("ollama-js/0.5.18 (x64 linux Node.js/v22.11.0)", "ollama"),
    ("replicate-python/1.0.7", "replicate"),
    ("python-httpx/0.28.1 AssemblyAI/1.0 (sdk=Python/0.40.2 runtime_env=Python/3.12.3)", "assemblyai"),
    ("@deepgram/sdk/3.9.0 node/22.11.0", "deepgram"),
    ("elevenlabs/2.43.0", "elevenlabs"),
    ("hume/0.13.11", "hume_ai"),
    # Coding assistants and CLIs.
    ("codex_cli_rs/0.46.0 (Mac OS 15.6.1; arm64) iTerm.app/3.5.14", "chatgpt"),
    ("codex_exec/0.46.0 (Ubuntu 24.4.0; x86_64)", "chatgpt"),
    ("claude-cli/2.0.69 (external, cli)", "claude"),
    ("GeminiCLI/0.34.0/gemini-2.5-pro (darwin; arm64; terminal)", "gemini_code_assist"),
    ("Cline/3.38.1", "cline"),
    ("Kilo-Code/4.116.1", "kilo_code"),
    ("opencode/0.15.2 ai-sdk/provider-utils/3.0.9 runtime/bun/1.2.21", "opencode"),
    ("Continue-CLI/1.5.10", "continue_dev"),
    ("QwenCode/0.10.3 (linux; x64)", "qwen"),
    ("Mistral-Vibe/1.3.0", "mistral_api"),
    ("aws-sdk-nodejs/2.1692.0 linux/v20.18.0 AmazonQ-For-VSCode/1.40.0", "amazon_q_developer"),
    ("TabNine.tabnine-vscode", "tabnine"),
]

ORDINARY = [
    "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/131.0.0.0 Safari/537.36",
    "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/131.0.0.0 Safari/537.36 "
    "Edg/131.0.0.0",
    "Mozilla/5.0 (Macintosh; Intel Mac OS X 14.5; rv:133.0) Gecko/20100101 Firefox/133.0",
    "Mozilla/5.0 (Macintosh; Intel Mac OS X 10_15_7) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/18.1 "
    "Safari/605.1.15",
    "Mozilla/5.0 (Linux; Android 14; Pixel 8) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/131.0.6778.81 Mobile "
    "Safari/537.36",
    "Microsoft Office/16.0 (Windows NT 10.0; Microsoft Outlook 16.0.17928; Pro)",
    "Microsoft Office/16.0 (Windows NT 10.0; Microsoft Word 16.0.17928; Pro)",
    "Mozilla/4.0 (compatible; ms-office; MSOffice 16)",
    "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Microsoft Teams/1.7.00.13456 "
    "Chrome/122.0.6261.156 Electron/29.4.6 Safari/537.36",
    "Outlook-iOS/709.2226530.prod.iphone (4.2420.0)",
    "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Code/1.95.3 "
    "Chrome/128.0.6613.186 Electron/32.2.1 Safari/537.36",
    "curl/8.5.0", "Wget/1.21.4", "python-requests/2.32.3", "python-httpx/0.28.1", "aiohttp/3.10.5",
    "Go-http-client/2.0", "okhttp/4.12.0", "axios/1.7.7", "node", "Java/17.0.12",
    "Apache-HttpClient/4.5.14 (Java/17.0.12)", "PostmanRuntime/7.42.0", "git/2.47.0",
    "gcloud-python/3.0.0 gl-python/3.12.3",
    "Boto3/1.35.36 md/Botocore#1.35.36 ua/2.0 os/linux#6.8 md/arch#x86_64 lang/python#3.12.3",
    "aws-sdk-js/3.600.0 ua/2.0 os/darwin#23.0 lang/js md/nodejs#20 api/s3#3.600.0",
    "azsdk-python-storage-blob/12.23.1 Python/3.12.3 (Linux-6.8-x86_64-with-glibc2.39)",
    # Generated SDKs of non-AI APIs share the generators' UA shapes.
    "speakeasy-sdk/python 0.0.7 2.338.7 0.0.1 dub", "Stainless/Python 1.0.0", "Lithic/Python 0.70.0",
]


@pytest.fixture(scope="module")
def catalog() -> Catalog:
    return load_catalog(SIGNATURES)


@pytest.mark.parametrize(("agent", "service"), AI_CLIENTS)
def test_ai_client_user_agent_names_its_service(catalog: Catalog, agent: str, service: str) -> None:
    found = catalog.match_host(GATEWAY, user_agent=agent)
    assert found is not None, agent
    assert (found.service.id, found.rule) == (service, "user_agent")


@pytest.mark.parametrize("agent", ORDINARY)
def test_ordinary_user_agent_names_no_service(catalog: Catalog, agent: str) -> None:
    assert catalog.match_host(GATEWAY, user_agent=agent) is None


@pytest.mark.parametrize("agent", [
    "speakeasy-sdk/python 1.2.6 2.486.1 0.0.2 mistralai_azure",  # Mistral models hosted by Azure
    "google-genai-sdk/1.12.1 gl-python/3.12.3",
])
def test_host_rule_still_wins_over_user_agent(catalog: Catalog, agent: str) -> None:
    """A known host decides; the user agent is consulted only when no host rule matched."""
    found = catalog.match_host("api.mistral.ai", user_agent=agent)
    assert found is not None and (found.service.id, found.rule) == ("mistral_api", "domain")


def test_mistral_on_azure_is_not_mistral_by_user_agent(catalog: Catalog) -> None:
    found = catalog.match_host(GATEWAY, user_agent="speakeasy-sdk/python 1.2.6 2.486.1 0.0.2 mistralai_azure")
    assert found is None or found.service.id != "mistral_api"
