"""The knowledge base and the answering engine: load, validate, rank, reply, evaluate."""

from .answerer import KEPT_FOR_STAFF, Answer, Answerer
from .entry import Entry
from .evaluate import EvalReport, Miss, evaluate
from .holder import KnowledgeBaseHolder
from .knowledge import KnowledgeBase
from .loader import check, find_taxonomy, load_knowledge_base, validate

__all__ = [
    "KEPT_FOR_STAFF",
    "Answer",
    "Answerer",
    "Entry",
    "EvalReport",
    "KnowledgeBase",
    "KnowledgeBaseHolder",
    "Miss",
    "check",
    "evaluate",
    "find_taxonomy",
    "load_knowledge_base",
    "validate",
]
