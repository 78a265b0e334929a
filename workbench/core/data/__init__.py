"""Datasets: folder and npz indexing, scan reports, splits and tf.data pipelines."""

from workbench.core.data.scan import ScanCancelled, ScanReport, scan_dataset
from workbench.core.data.split import group_split, stratified_split

__all__ = ["ScanCancelled", "ScanReport", "scan_dataset", "group_split", "stratified_split"]
