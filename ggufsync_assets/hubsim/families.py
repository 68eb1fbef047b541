"""Reference data the repo generator draws from: base model families, tokenizers and quantizations.

The numbers are those of the real upstream models (parameter counts, context lengths, vocabularies), so
that the generated repos, the served GGUF headers and the Hub's `gguf` summaries look like the real thing
and agree with one another.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

import gguf


@dataclass(frozen=True, slots=True)
class Tokenizer:
    """What a GGUF header's `tokenizer.*` keys say, and what the Hub's `gguf` summary repeats."""

    model: str
    vocab_size: int
    bos_id: int
    bos: str
    eos_id: int
    eos: str
    chat_template: str | None


@dataclass(frozen=True, slots=True)
class Family:
    """One upstream model that GGUF repos quantize (its base_model)."""

    base_model: str
    architecture: str
    parameters: int
    context_length: int
    block_count: int
    embedding_length: int
    head_count: int
    head_count_kv: int
    feed_forward_length: int
    tokenizer: Tokenizer
    license: str
    released: date
    pipeline_tag: str
    popularity: float
    vision_parameters: int = 0
    gated_upstream: bool = False

    @property
    def name(self) -> str:
        """The model's name without its organisation, as quantizers put it in repo and file names."""
        return self.base_model.split("/", 1)[1]

    @property
    def size_label(self) -> str:
        billions = self.parameters / 1e9
        if billions < 1:
            return f"{round(self.parameters / 1e6)}M"
        return f"{billions:.1f}B".replace(".0B", "B")


_LLAMA3_TEMPLATE = (
    "{{ bos_token }}{% for message in messages %}<|start_header_id|>{{ message['role'] }}"
    "<|end_header_id|>\n\n{{ message['content'] | trim }}<|eot_id|>{% endfor %}"
    "{% if add_generation_prompt %}<|start_header_id|>assistant<|end_header_id|>\n\n{% endif %}"
)
_CHATML_TEMPLATE = (
    "{% for message in messages %}{{'<|im_start|>' + message['role'] + '\n' + message['content']"
    " + '<|im_end|>' + '\n'}}{% endfor %}{% if add_generation_prompt %}{{ '<|im_start|>assistant\n' }}"
    "{% endif %}"
)
_GEMMA_TEMPLATE = (
    "{{ bos_token }}{% for message in messages %}{% set role = 'model' if message['role'] == "
    "'assistant' else message['role'] %}{{ '<start_of_turn>' + role + '\n' + message['content'] | trim"
    " + '<end_of_turn>\n' }}{% endfor %}{% if add_generation_prompt %}{{'<start_of_turn>model\n'}}"
    "{% endif %}"
)
_MISTRAL_TEMPLATE = (
    "{{ bos_token }}{% for message in messages %}{% if message['role'] == 'user' %}"
    "{{ '[INST] ' + message['content'] + ' [/INST]' }}{% else %}{{ message['content'] + eos_token }}"
    "{% endif %}{% endfor %}"
)
_PHI3_TEMPLATE = (
    "{% for message in messages %}{{'<|' + message['role'] + '|>' + '\n' + message['content'] + "
    "'<|end|>\n'}}{% endfor %}{% if add_generation_prompt %}{{ '<|assistant|>\n' }}{% endif %}"
)
_DS_BOS = "<\uff5cbegin\u2581of\u2581sentence\uff5c>"
_DS_EOS = "<\uff5cend\u2581of\u2581sentence\uff5c>"
_DS_USER, _DS_ASSISTANT = "<\uff5cUser\uff5c>", "<\uff5cAssistant\uff5c>"
_DEEPSEEK_TEMPLATE = (
    "{{ bos_token }}{% for message in messages %}{% if message['role'] == 'user' %}"
    f"{{{{'{_DS_USER}' + message['content']}}}}{{% else %}}{{{{'{_DS_ASSISTANT}' + "
    f"message['content'] + '{_DS_EOS}'}}}}{{% endif %}}{{% endfor %}}{{% if add_generation_prompt %}}"
    f"{{{{'{_DS_ASSISTANT}<think>\\n'}}}}{{% endif %}}"
)
_ZEPHYR_TEMPLATE = (
    "{% for message in messages %}{{ '<|' + message['role'] + '|>\n' + message['content'] + eos_token }}"
    "{% endfor %}{% if add_generation_prompt %}{{ '<|assistant|>' }}{% endif %}"
)
_COMMAND_R_TEMPLATE = (
    "{{ bos_token }}{% for message in messages %}{{ '<|START_OF_TURN_TOKEN|><|' + "
    "message['role'] | upper + '_TOKEN|>' + message['content'] + '<|END_OF_TURN_TOKEN|>' }}"
    "{% endfor %}{% if add_generation_prompt %}"
    "{{ '<|START_OF_TURN_TOKEN|><|CHATBOT_TOKEN|>' }}{% endif %}"
)
_HARMONY_TEMPLATE = (
    "{%- for message in messages -%}{{- '<|start|>' + message['role'] + '<|message|>' + "
    "message['content'] + '<|end|>' -}}{%- endfor -%}{%- if add_generation_prompt -%}"
    "<|start|>assistant{%- endif -%}"
)


def _llama3(vocab: int = 128256) -> Tokenizer:
    return Tokenizer("gpt2", vocab, 128000, "<|begin_of_text|>", 128009, "<|eot_id|>", _LLAMA3_TEMPLATE)


def _sentencepiece(vocab: int, eos_id: int = 2, eos: str = "</s>", template: str | None = None) -> Tokenizer:
    return Tokenizer("llama", vocab, 1, "<s>", eos_id, eos, template)


def _qwen(vocab: int) -> Tokenizer:
    return Tokenizer("gpt2", vocab, 151643, "<|endoftext|>", 151645, "<|im_end|>", _CHATML_TEMPLATE)


def _gemma(vocab: int) -> Tokenizer:
    return Tokenizer("llama", vocab, 2, "<bos>", 106, "<end_of_turn>", _GEMMA_TEMPLATE)


def _family(  # noqa: PLR0917 - the table below reads best as positional rows
    base_model: str,
    architecture: str,
    parameters: float,
    context_length: int,
    blocks: int,
    embedding: int,
    heads: tuple[int, int],
    feed_forward: int,
    tokenizer: Tokenizer,
    license_id: str,
    released: str,
    popularity: float,
    *,
    pipeline_tag: str = "text-generation",
    vision: float = 0.0,
    gated: bool = False,
) -> Family:
    return Family(
        base_model=base_model,
        architecture=architecture,
        parameters=round(parameters * 1e9),
        context_length=context_length,
        block_count=blocks,
        embedding_length=embedding,
        head_count=heads[0],
        head_count_kv=heads[1],
        feed_forward_length=feed_forward,
        tokenizer=tokenizer,
        license=license_id,
        released=date.fromisoformat(released),
        pipeline_tag=pipeline_tag,
        popularity=popularity,
        vision_parameters=round(vision * 1e9),
        gated_upstream=gated,
    )


FAMILIES: tuple[Family, ...] = (
    _family(
        "meta-llama/Llama-2-7b-chat-hf",
        "llama",
        6.74,
        4096,
        32,
        4096,
        (32, 32),
        11008,
        _sentencepiece(32000, template=_MISTRAL_TEMPLATE),
        "llama2",
        "2023-07-18",
        3,
        gated=True,
    ),
    _family(
        "meta-llama/Llama-2-13b-chat-hf",
        "llama",
        13.02,
        4096,
        40,
        5120,
        (40, 40),
        13824,
        _sentencepiece(32000, template=_MISTRAL_TEMPLATE),
        "llama2",
        "2023-07-18",
        2,
        gated=True,
    ),
    _family(
        "meta-llama/Llama-2-70b-chat-hf",
        "llama",
        68.98,
        4096,
        80,
        8192,
        (64, 8),
        28672,
        _sentencepiece(32000, template=_MISTRAL_TEMPLATE),
        "llama2",
        "2023-07-18",
        1,
        gated=True,
    ),
    _family(
        "TinyLlama/TinyLlama-1.1B-Chat-v1.0",
        "llama",
        1.1,
        2048,
        22,
        2048,
        (32, 4),
        5632,
        _sentencepiece(32000, template=_ZEPHYR_TEMPLATE),
        "apache-2.0",
        "2023-12-30",
        2,
    ),
    _family(
        "mistralai/Mistral-7B-Instruct-v0.2",
        "llama",
        7.24,
        32768,
        32,
        4096,
        (32, 8),
        14336,
        _sentencepiece(32000, template=_MISTRAL_TEMPLATE),
        "apache-2.0",
        "2023-12-11",
        4,
    ),
    _family(
        "mistralai/Mixtral-8x7B-Instruct-v0.1",
        "llama",
        46.7,
        32768,
        32,
        4096,
        (32, 8),
        14336,
        _sentencepiece(32000, template=_MISTRAL_TEMPLATE),
        "apache-2.0",
        "2023-12-10",
        2,
    ),
    _family(
        "mistralai/Mistral-7B-Instruct-v0.3",
        "llama",
        7.25,
        32768,
        32,
        4096,
        (32, 8),
        14336,
        _sentencepiece(32768, template=_MISTRAL_TEMPLATE),
        "apache-2.0",
        "2024-05-22",
        4,
    ),
    _family(
        "mistralai/Mistral-Nemo-Instruct-2407",
        "llama",
        12.25,
        1024000,
        40,
        5120,
        (32, 8),
        14336,
        Tokenizer("gpt2", 131072, 1, "<s>", 2, "</s>", _MISTRAL_TEMPLATE),
        "apache-2.0",
        "2024-07-18",
        4,
    ),
    _family(
        "mistralai/Mistral-Small-3.1-24B-Instruct-2503",
        "llama",
        23.57,
        131072,
        40,
        5120,
        (32, 8),
        32768,
        Tokenizer("gpt2", 131072, 1, "<s>", 2, "</s>", _MISTRAL_TEMPLATE),
        "apache-2.0",
        "2025-03-17",
        4,
        pipeline_tag="image-text-to-text",
        vision=0.44,
    ),
    _family(
        "meta-llama/Llama-3.1-8B-Instruct",
        "llama",
        8.03,
        131072,
        32,
        4096,
        (32, 8),
        14336,
        _llama3(),
        "llama3.1",
        "2024-07-23",
        9,
        gated=True,
    ),
    _family(
        "meta-llama/Llama-3.1-70B-Instruct",
        "llama",
        70.55,
        131072,
        80,
        8192,
        (64, 8),
        28672,
        _llama3(),
        "llama3.1",
        "2024-07-23",
        3,
        gated=True,
    ),
    _family(
        "meta-llama/Llama-3.2-1B-Instruct",
        "llama",
        1.24,
        131072,
        16,
        2048,
        (32, 8),
        8192,
        _llama3(),
        "llama3.2",
        "2024-09-25",
        5,
        gated=True,
    ),
    _family(
        "meta-llama/Llama-3.2-3B-Instruct",
        "llama",
        3.21,
        131072,
        28,
        3072,
        (24, 8),
        8192,
        _llama3(),
        "llama3.2",
        "2024-09-25",
        6,
        gated=True,
    ),
    _family(
        "meta-llama/Llama-3.3-70B-Instruct",
        "llama",
        70.55,
        131072,
        80,
        8192,
        (64, 8),
        28672,
        _llama3(),
        "llama3.3",
        "2024-12-06",
        4,
        gated=True,
    ),
    _family(
        "Qwen/Qwen2.5-0.5B-Instruct",
        "qwen2",
        0.494,
        32768,
        24,
        896,
        (14, 2),
        4864,
        _qwen(151936),
        "apache-2.0",
        "2024-09-19",
        4,
    ),
    _family(
        "Qwen/Qwen2.5-7B-Instruct",
        "qwen2",
        7.62,
        32768,
        28,
        3584,
        (28, 4),
        18944,
        _qwen(152064),
        "apache-2.0",
        "2024-09-19",
        9,
    ),
    _family(
        "Qwen/Qwen2.5-14B-Instruct",
        "qwen2",
        14.77,
        32768,
        48,
        5120,
        (40, 8),
        13824,
        _qwen(152064),
        "apache-2.0",
        "2024-09-19",
        5,
    ),
    _family(
        "Qwen/Qwen2.5-32B-Instruct",
        "qwen2",
        32.76,
        32768,
        64,
        5120,
        (40, 8),
        27648,
        _qwen(152064),
        "apache-2.0",
        "2024-09-19",
        4,
    ),
    _family(
        "Qwen/Qwen2.5-72B-Instruct",
        "qwen2",
        72.71,
        32768,
        80,
        8192,
        (64, 8),
        29568,
        _qwen(152064),
        "qwen",
        "2024-09-19",
        2,
    ),
    _family(
        "Qwen/Qwen2.5-Coder-7B-Instruct",
        "qwen2",
        7.62,
        32768,
        28,
        3584,
        (28, 4),
        18944,
        _qwen(152064),
        "apache-2.0",
        "2024-11-12",
        4,
    ),
    _family(
        "Qwen/Qwen2.5-VL-7B-Instruct",
        "qwen2vl",
        8.29,
        128000,
        28,
        3584,
        (28, 4),
        18944,
        _qwen(152064),
        "apache-2.0",
        "2025-01-26",
        3,
        pipeline_tag="image-text-to-text",
        vision=0.68,
    ),
    _family(
        "Qwen/Qwen3-0.6B",
        "qwen3",
        0.596,
        40960,
        28,
        1024,
        (16, 8),
        3072,
        _qwen(151936),
        "apache-2.0",
        "2025-04-29",
        4,
    ),
    _family(
        "Qwen/Qwen3-4B",
        "qwen3",
        4.02,
        40960,
        36,
        2560,
        (32, 8),
        9728,
        _qwen(151936),
        "apache-2.0",
        "2025-04-29",
        6,
    ),
    _family(
        "Qwen/Qwen3-8B",
        "qwen3",
        8.19,
        40960,
        36,
        4096,
        (32, 8),
        12288,
        _qwen(151936),
        "apache-2.0",
        "2025-04-29",
        8,
    ),
    _family(
        "Qwen/Qwen3-14B",
        "qwen3",
        14.77,
        40960,
        40,
        5120,
        (40, 8),
        17408,
        _qwen(151936),
        "apache-2.0",
        "2025-04-29",
        5,
    ),
    _family(
        "Qwen/Qwen3-32B",
        "qwen3",
        32.76,
        40960,
        64,
        5120,
        (64, 8),
        25600,
        _qwen(151936),
        "apache-2.0",
        "2025-04-29",
        4,
    ),
    _family(
        "Qwen/Qwen3-30B-A3B",
        "qwen3moe",
        30.53,
        40960,
        48,
        2048,
        (32, 4),
        6144,
        _qwen(151936),
        "apache-2.0",
        "2025-04-29",
        5,
    ),
    _family(
        "Qwen/Qwen3-235B-A22B",
        "qwen3moe",
        235.09,
        40960,
        94,
        4096,
        (64, 4),
        12288,
        _qwen(151936),
        "apache-2.0",
        "2025-04-29",
        2,
    ),
    _family(
        "google/gemma-2-9b-it",
        "gemma2",
        9.24,
        8192,
        42,
        3584,
        (16, 8),
        14336,
        _gemma(256000),
        "gemma",
        "2024-06-27",
        3,
        gated=True,
    ),
    _family(
        "google/gemma-3-1b-it",
        "gemma3",
        1.0,
        32768,
        26,
        1152,
        (4, 1),
        6912,
        _gemma(262144),
        "gemma",
        "2025-03-12",
        4,
        gated=True,
    ),
    _family(
        "google/gemma-3-4b-it",
        "gemma3",
        3.88,
        131072,
        34,
        2560,
        (8, 4),
        10240,
        _gemma(262208),
        "gemma",
        "2025-03-12",
        5,
        pipeline_tag="image-text-to-text",
        vision=0.42,
        gated=True,
    ),
    _family(
        "google/gemma-3-12b-it",
        "gemma3",
        12.19,
        131072,
        48,
        3840,
        (16, 8),
        15360,
        _gemma(262208),
        "gemma",
        "2025-03-12",
        4,
        pipeline_tag="image-text-to-text",
        vision=0.42,
        gated=True,
    ),
    _family(
        "google/gemma-3-27b-it",
        "gemma3",
        27.43,
        131072,
        62,
        5376,
        (32, 16),
        21504,
        _gemma(262208),
        "gemma",
        "2025-03-12",
        4,
        pipeline_tag="image-text-to-text",
        vision=0.42,
        gated=True,
    ),
    _family(
        "microsoft/Phi-3-mini-4k-instruct",
        "phi3",
        3.82,
        4096,
        32,
        3072,
        (32, 32),
        8192,
        _sentencepiece(32064, eos_id=32007, eos="<|end|>", template=_PHI3_TEMPLATE),
        "mit",
        "2024-04-23",
        3,
    ),
    _family(
        "microsoft/phi-4",
        "phi3",
        14.66,
        16384,
        40,
        5120,
        (40, 10),
        17920,
        Tokenizer("gpt2", 100352, 100257, "<|endoftext|>", 100265, "<|im_end|>", _CHATML_TEMPLATE),
        "mit",
        "2024-12-12",
        3,
    ),
    _family(
        "deepseek-ai/DeepSeek-R1-Distill-Qwen-7B",
        "qwen2",
        7.62,
        131072,
        28,
        3584,
        (28, 4),
        18944,
        Tokenizer("gpt2", 152064, 151646, _DS_BOS, 151643, _DS_EOS, _DEEPSEEK_TEMPLATE),
        "mit",
        "2025-01-20",
        4,
    ),
    _family(
        "deepseek-ai/DeepSeek-R1-Distill-Llama-8B",
        "llama",
        8.03,
        131072,
        32,
        4096,
        (32, 8),
        14336,
        Tokenizer("gpt2", 128256, 128000, _DS_BOS, 128001, _DS_EOS, _DEEPSEEK_TEMPLATE),
        "mit",
        "2025-01-20",
        3,
    ),
    _family(
        "deepseek-ai/DeepSeek-Coder-V2-Lite-Instruct",
        "deepseek2",
        15.71,
        163840,
        27,
        2048,
        (16, 16),
        10944,
        Tokenizer("gpt2", 102400, 100000, _DS_BOS, 100001, _DS_EOS, _DEEPSEEK_TEMPLATE),
        "deepseek",
        "2024-06-14",
        2,
    ),
    _family(
        "deepseek-ai/DeepSeek-R1",
        "deepseek2",
        671.03,
        163840,
        61,
        7168,
        (128, 128),
        18432,
        Tokenizer("gpt2", 129280, 0, _DS_BOS, 1, _DS_EOS, _DEEPSEEK_TEMPLATE),
        "mit",
        "2025-01-20",
        2,
    ),
    _family(
        "HuggingFaceTB/SmolLM2-135M-Instruct",
        "llama",
        0.135,
        8192,
        30,
        576,
        (9, 3),
        1536,
        Tokenizer("gpt2", 49152, 1, "<|im_start|>", 2, "<|im_end|>", _CHATML_TEMPLATE),
        "apache-2.0",
        "2024-10-31",
        2,
    ),
    _family(
        "HuggingFaceTB/SmolLM2-1.7B-Instruct",
        "llama",
        1.71,
        8192,
        24,
        2048,
        (32, 32),
        8192,
        Tokenizer("gpt2", 49152, 1, "<|im_start|>", 2, "<|im_end|>", _CHATML_TEMPLATE),
        "apache-2.0",
        "2024-10-31",
        3,
    ),
    _family(
        "ibm-granite/granite-3.1-8b-instruct",
        "granite",
        8.17,
        131072,
        40,
        4096,
        (32, 8),
        12800,
        Tokenizer("gpt2", 49155, 0, "<|end_of_text|>", 0, "<|end_of_text|>", _CHATML_TEMPLATE),
        "apache-2.0",
        "2024-12-18",
        1,
    ),
    _family(
        "CohereForAI/c4ai-command-r-v01",
        "command-r",
        34.98,
        131072,
        40,
        8192,
        (64, 64),
        22528,
        Tokenizer("gpt2", 256000, 5, "<BOS_TOKEN>", 255001, "<|END_OF_TURN_TOKEN|>", _COMMAND_R_TEMPLATE),
        "cc-by-nc-4.0",
        "2024-03-11",
        1,
        gated=True,
    ),
    _family(
        "openai/gpt-oss-20b",
        "gpt-oss",
        20.91,
        131072,
        24,
        2880,
        (64, 8),
        2880,
        Tokenizer("gpt2", 201088, 199998, "<|startoftext|>", 200002, "<|return|>", _HARMONY_TEMPLATE),
        "apache-2.0",
        "2025-08-05",
        4,
    ),
    _family(
        "openai/gpt-oss-120b",
        "gpt-oss",
        116.83,
        131072,
        36,
        2880,
        (64, 8),
        2880,
        Tokenizer("gpt2", 201088, 199998, "<|startoftext|>", 200002, "<|return|>", _HARMONY_TEMPLATE),
        "apache-2.0",
        "2025-08-05",
        2,
    ),
    _family(
        "nomic-ai/nomic-embed-text-v1.5",
        "nomic-bert",
        0.137,
        2048,
        12,
        768,
        (12, 12),
        3072,
        Tokenizer("bert", 30522, 101, "[CLS]", 102, "[SEP]", None),
        "apache-2.0",
        "2024-02-10",
        1,
        pipeline_tag="feature-extraction",
    ),
)

FAMILIES_BY_BASE_MODEL: dict[str, Family] = {family.base_model: family for family in FAMILIES}


@dataclass(frozen=True, slots=True)
class Quantization:
    """A llama.cpp quantization as it appears in file names, and what the file's header says about it."""

    name: str
    bits_per_weight: float
    file_type: gguf.LlamaFileType
    tensor_type: gguf.GGMLQuantizationType


_F = gguf.LlamaFileType
_T = gguf.GGMLQuantizationType

QUANTIZATIONS: dict[str, Quantization] = {
    q.name: q
    for q in (
        Quantization("F32", 32.0, _F.ALL_F32, _T.F32),
        Quantization("F16", 16.0, _F.MOSTLY_F16, _T.F16),
        Quantization("BF16", 16.0, _F.MOSTLY_BF16, _T.BF16),
        Quantization("Q8_0", 8.5, _F.MOSTLY_Q8_0, _T.Q8_0),
        Quantization("Q6_K_L", 6.9, _F.MOSTLY_Q6_K, _T.Q6_K),
        Quantization("Q6_K", 6.56, _F.MOSTLY_Q6_K, _T.Q6_K),
        Quantization("Q5_K_L", 5.9, _F.MOSTLY_Q5_K_M, _T.Q5_K),
        Quantization("Q5_K_M", 5.69, _F.MOSTLY_Q5_K_M, _T.Q5_K),
        Quantization("Q5_K_S", 5.54, _F.MOSTLY_Q5_K_S, _T.Q5_K),
        Quantization("Q5_1", 6.0, _F.MOSTLY_Q5_1, _T.Q5_1),
        Quantization("Q5_0", 5.5, _F.MOSTLY_Q5_0, _T.Q5_0),
        Quantization("Q4_K_L", 5.1, _F.MOSTLY_Q4_K_M, _T.Q4_K),
        Quantization("Q4_K_M", 4.89, _F.MOSTLY_Q4_K_M, _T.Q4_K),
        Quantization("Q4_K_S", 4.58, _F.MOSTLY_Q4_K_S, _T.Q4_K),
        Quantization("Q4_1", 5.0, _F.MOSTLY_Q4_1, _T.Q4_1),
        Quantization("Q4_0", 4.55, _F.MOSTLY_Q4_0, _T.Q4_0),
        Quantization("IQ4_NL", 4.68, _F.MOSTLY_IQ4_NL, _T.IQ4_NL),
        Quantization("IQ4_XS", 4.46, _F.MOSTLY_IQ4_XS, _T.IQ4_XS),
        Quantization("Q3_K_XL", 4.3, _F.MOSTLY_Q3_K_L, _T.Q3_K),
        Quantization("Q3_K_L", 4.27, _F.MOSTLY_Q3_K_L, _T.Q3_K),
        Quantization("Q3_K_M", 3.91, _F.MOSTLY_Q3_K_M, _T.Q3_K),
        Quantization("Q3_K_S", 3.5, _F.MOSTLY_Q3_K_S, _T.Q3_K),
        Quantization("IQ3_M", 3.76, _F.MOSTLY_IQ3_M, _T.IQ3_S),
        Quantization("IQ3_S", 3.66, _F.MOSTLY_IQ3_S, _T.IQ3_S),
        Quantization("IQ3_XS", 3.5, _F.MOSTLY_IQ3_XS, _T.IQ3_S),
        Quantization("IQ3_XXS", 3.21, _F.MOSTLY_IQ3_XXS, _T.IQ3_XXS),
        Quantization("Q2_K_L", 3.6, _F.MOSTLY_Q2_K, _T.Q2_K),
        Quantization("Q2_K", 3.35, _F.MOSTLY_Q2_K, _T.Q2_K),
        Quantization("Q2_K_S", 3.0, _F.MOSTLY_Q2_K_S, _T.Q2_K),
        Quantization("IQ2_M", 2.93, _F.MOSTLY_IQ2_M, _T.IQ2_S),
        Quantization("IQ2_S", 2.74, _F.MOSTLY_IQ2_S, _T.IQ2_S),
        Quantization("IQ2_XS", 2.58, _F.MOSTLY_IQ2_XS, _T.IQ2_XS),
        Quantization("IQ2_XXS", 2.38, _F.MOSTLY_IQ2_XXS, _T.IQ2_XXS),
        Quantization("IQ1_M", 2.0, _F.MOSTLY_IQ1_M, _T.IQ1_M),
        Quantization("IQ1_S", 1.88, _F.MOSTLY_IQ1_S, _T.IQ1_S),
        Quantization("TQ1_0", 1.69, _F.MOSTLY_TQ1_0, _T.TQ1_0),
        Quantization("UD-Q8_K_XL", 9.5, _F.MOSTLY_Q8_0, _T.Q8_0),
        Quantization("UD-Q6_K_XL", 7.0, _F.MOSTLY_Q6_K, _T.Q6_K),
        Quantization("UD-Q5_K_XL", 5.9, _F.MOSTLY_Q5_K_M, _T.Q5_K),
        Quantization("UD-Q4_K_XL", 5.0, _F.MOSTLY_Q4_K_M, _T.Q4_K),
        Quantization("UD-Q3_K_XL", 4.3, _F.MOSTLY_Q3_K_M, _T.Q3_K),
        Quantization("UD-Q2_K_XL", 3.3, _F.MOSTLY_Q2_K, _T.Q2_K),
        Quantization("UD-IQ3_XXS", 3.3, _F.MOSTLY_IQ3_XXS, _T.IQ3_XXS),
        Quantization("UD-IQ2_M", 3.0, _F.MOSTLY_IQ2_M, _T.IQ2_S),
        Quantization("UD-IQ2_XXS", 2.5, _F.MOSTLY_IQ2_XXS, _T.IQ2_XXS),
        Quantization("UD-IQ1_M", 2.1, _F.MOSTLY_IQ1_M, _T.IQ1_M),
        Quantization("UD-IQ1_S", 1.9, _F.MOSTLY_IQ1_S, _T.IQ1_S),
    )
}


def quantization(label: str) -> Quantization:
    """The quantization named in a file name, ignoring case and mradermacher's `i1-` imatrix prefix."""
    key = label.upper().removeprefix("I1-")
    if key == "FP16":
        key = "F16"
    return QUANTIZATIONS[key]
