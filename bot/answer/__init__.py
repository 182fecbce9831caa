"""The knowledge base and the answering engine: load, validate, rank, reply, evaluate."""

from .answerer import Answer, Answerer
from .entry import Entry
from .evaluate import EvalReport, Miss, evaluate
from .holder import KnowledgeBaseHolder
from .knowledge import KnowledgeBase
from .loader import find_taxonomy, load_knowledge_base, validate

__all__ = [
    "Answer",
    "Answerer",
    "Entry",
    "EvalReport",
    "KnowledgeBase",
    "KnowledgeBaseHolder",
    "Miss",
    "evaluate",
    "find_taxonomy",
    "load_knowledge_base",
    "validate",
]
