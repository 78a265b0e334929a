"""ModelGuidance: what the loaded data says about the chosen template, above its hyperparameters.

Three parts, each from one core function (the CLI can ask the same):

- whether the template fits the data (:func:`workbench.core.templates.fit.template_fit`): when it does
  not, the reason and a button for a template that does;
- what the scan found (sample rates, durations, image sizes) and the settings it suggests
  (:func:`workbench.core.templates.proposal.propose_settings`), accepted with one click;
- the shipped models' recipes (:func:`workbench.core.templates.recipes.shipped_recipes`) as one-click
  presets: template, hyperparameters and augmentation.

Everything here is cheap (the scan already holds every file's statistics), so it runs on the GUI
thread as the state changes. It writes only to the state.
"""

from __future__ import annotations

from PySide6.QtCore import Signal, Slot
from PySide6.QtWidgets import QGroupBox, QHBoxLayout, QLabel, QPushButton, QVBoxLayout, QWidget

from workbench.core.errors import WorkbenchError
from workbench.core.templates import get_template
from workbench.core.templates.fit import rank_templates, template_fit
from workbench.core.templates.proposal import SettingsProposal, propose_settings
from workbench.core.templates.recipes import Recipe, shipped_recipes
from workbench.gui.panels.panel_widgets import message_label, named, set_message
from workbench.gui.state import AppState


class ModelGuidance(QWidget):
    """The fit note, the data's proposal and the recipe presets of the Model panel."""

    proposal_shown = Signal(object)  # the SettingsProposal now shown (for tests and screenshots)

    def __init__(self, state: AppState, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("modelGuidance")
        self._state = state
        self._proposal: SettingsProposal | None = None
        self._switch_to: str | None = None

        self._fit_note = message_label("modelFitLabel", "Whether the template fits the data")
        self._fit_note.hide()
        self._switch_button = named(QPushButton(self), "modelFitSwitchButton", "Use a template that fits the data")
        self._switch_button.clicked.connect(self._on_switch_clicked)
        self._switch_button.hide()
        fit_row = QHBoxLayout()
        fit_row.setContentsMargins(0, 0, 0, 0)
        fit_row.addWidget(self._fit_note, 1)
        fit_row.addWidget(self._switch_button)

        self._facts = message_label("modelDataFactsLabel", "What the scan found in the files")
        self._facts.setToolTip("From the dataset scan: every file was read once")
        self._proposal_label = message_label("modelProposalLabel", "Settings proposed from the data")
        self._apply_button = named(QPushButton("Use these settings", self), "modelProposalApplyButton",
                                   "Use the settings proposed from the data",
                                   "Set these hyperparameters in the form (Reset to defaults undoes it)")
        self._apply_button.clicked.connect(self._on_apply_clicked)
        self._proposal_box = named(QGroupBox("From your data", self), "modelProposalBox", "Proposed from the data")
        box_layout = QVBoxLayout(self._proposal_box)
        box_layout.addWidget(self._facts)
        box_layout.addWidget(self._proposal_label)
        box_layout.addWidget(self._apply_button, 0)
        self._proposal_box.hide()

        self._recipes = shipped_recipes()
        self._recipe_buttons: dict[str, QPushButton] = {}
        recipes_row = QHBoxLayout()
        recipes_row.setContentsMargins(0, 0, 0, 0)
        self._recipes_label = QLabel("Recipes of the shipped models:", self)
        recipes_row.addWidget(self._recipes_label)
        for recipe in self._recipes:
            button = named(QPushButton(recipe.title, self), f"modelRecipeButton_{recipe.name}",
                           f"Use the {recipe.title.lower()}")
            button.clicked.connect(self._on_recipe_clicked)
            button.setProperty("recipe", recipe.name)
            self._recipe_buttons[recipe.name] = button
            recipes_row.addWidget(button)
        recipes_row.addStretch(1)
        self._recipes_label.setVisible(bool(self._recipes))

        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.addLayout(fit_row)
        layout.addWidget(self._proposal_box)
        layout.addLayout(recipes_row)

        state.dataset_changed.connect(self._on_dataset_changed)
        state.template_changed.connect(self._on_template_changed)
        state.hparams_changed.connect(self._on_hparams_changed)
        self.refresh()

    # ----------------------------------------------------------------------------------- public
    @property
    def proposal(self) -> SettingsProposal | None:
        return self._proposal

    def recipe(self, name: str) -> Recipe:
        return next(r for r in self._recipes if r.name == name)

    def apply_proposal(self) -> None:
        """Set the proposed values (only those that differ from the template's defaults are stored)."""
        if self._proposal is None or self._proposal.empty:
            return
        try:
            defaults = get_template(self._state.template_id).default_hparams()
        except WorkbenchError:
            return
        values = {**self._state.hparams, **self._proposal.changes}
        self._state.set_hparams({k: v for k, v in values.items() if v != defaults.get(k)})

    def apply_recipe(self, name: str) -> None:
        """The recipe's template, hyperparameters and augmentation, as the shipped model was trained."""
        recipe = self.recipe(name)
        self._state.set_template(recipe.template)  # the state gives each template its own values
        self._state.set_hparams(dict(recipe.hparams))
        self._state.set_augmentation_for_template(recipe.augmentation_spec())

    def refresh(self) -> None:
        scan = self._state.scan
        fit = template_fit(self._state.template_id, scan)
        self._switch_to = None
        if fit.fits:
            set_message(self._fit_note, "")
        else:
            fitting = [f.template for f in rank_templates(scan) if f.fits]
            titles = ", ".join(get_template(t).title for t in fitting)
            advice = f" Templates for this data: {titles}." if fitting else ""
            set_message(self._fit_note, f"{fit.reason}.{advice}", "warning")
            self._switch_to = fitting[0] if fitting else None
        if self._switch_to:
            self._switch_button.setText(f"Use {get_template(self._switch_to).title}")
        self._switch_button.setVisible(self._switch_to is not None)
        self._show_proposal(scan, fit.fits)
        modality = getattr(scan, "modality", None)
        for recipe in self._recipes:
            button = self._recipe_buttons[recipe.name]
            fits = modality is None or modality == recipe.modality
            button.setEnabled(fits)
            button.setToolTip(f"{recipe.describe()}\n\nFrom {recipe.source}" if fits else
                              f"{recipe.describe()}\n\nFor {recipe.modality} data; the dataset holds {modality}.")

    # --------------------------------------------------------------------------------- private
    def _show_proposal(self, scan, fits: bool) -> None:
        try:
            proposal = propose_settings(scan, self._state.template_id, self._state.hparams) if fits else None
        except WorkbenchError:
            proposal = None
        self._proposal = proposal
        facts = proposal.facts if proposal is not None else []
        set_message(self._facts, "\n".join(facts))
        if proposal is not None and not proposal.empty:
            set_message(self._proposal_label, "Proposed:\n" + "\n".join(f"• {line}" for line in proposal.lines()))
        elif facts:
            set_message(self._proposal_label, "The settings fit the data.")
        else:
            set_message(self._proposal_label, "")
        self._apply_button.setVisible(proposal is not None and not proposal.empty)
        self._proposal_box.setVisible(bool(facts) or (proposal is not None and not proposal.empty))
        self.proposal_shown.emit(proposal)

    @Slot(object)
    def _on_dataset_changed(self, _scan) -> None:
        self.refresh()

    @Slot(str)
    def _on_template_changed(self, _template_id: str) -> None:
        self.refresh()

    @Slot(dict)
    def _on_hparams_changed(self, _hparams: dict) -> None:
        self.refresh()

    @Slot()
    def _on_switch_clicked(self) -> None:
        if self._switch_to:
            self._state.set_template(self._switch_to)

    @Slot()
    def _on_apply_clicked(self) -> None:
        self.apply_proposal()

    @Slot()
    def _on_recipe_clicked(self) -> None:
        name = self.sender().property("recipe") if self.sender() is not None else None
        if name:
            self.apply_recipe(name)
