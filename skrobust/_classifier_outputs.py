"""Outputs of a fitted RobustClassifier: scores, labels, probabilities, robustness weights.

Everything here reads only the fitted attributes (``coef_`` or
``dual_coef_``, ``intercept_``, ``classes_``, ``loss_`` and the kernel
map), so :class:`ClassifierOutputs` is the half of
:class:`skrobust.RobustClassifier` that does not fit.
"""

from __future__ import annotations

import numpy as np
from sklearn.utils.validation import check_is_fitted, validate_data

from .losses._softmax import label_log_softmax
from .solvers.multinomial import log_softmax

_TIE_BREAK = 1e-9


class ClassifierOutputs:
    """Prediction methods of :class:`skrobust.RobustClassifier` (a mixin).

    Examples
    --------
    >>> from skrobust import RobustClassifier
    >>> from skrobust._classifier_outputs import ClassifierOutputs
    >>> issubclass(RobustClassifier, ClassifierOutputs)
    True
    """

    def _robustness_weights(self, X, codes, sample_weight):
        loss = self.loss_
        Z = self._scores(X)
        n_classes = self.classes_.shape[0]
        if loss.kind == "margin":
            if Z.shape[1] == 1:
                m = np.where(codes == 1, 1.0, -1.0) * Z[:, 0]
            else:
                m = Z[np.arange(Z.shape[0]), codes]
            return loss.robustness_weight(m)
        lp = np.empty(Z.shape[0])
        label_log_softmax(np.ascontiguousarray(Z), codes, lp, np.empty_like(Z))
        if not loss.smooth:
            return loss.hard_weights_log(lp, codes, sample_weight, n_classes)
        w1 = float(loss.weight_log(np.zeros(1))[0])
        return np.clip(loss.weight_log(lp) / w1, 0.0, 1.0)

    def _scores(self, X):
        kmap = getattr(self, "_kernel_map", None)
        if kmap is None:
            Z = np.asarray(X @ self.coef_.T, dtype=np.float64)
            return Z + self.intercept_
        if self.kernel == "precomputed" and self._support is not None:
            X = X[:, self._support]
        F = kmap.transform(X)
        Z = F @ self.dual_coef_ if kmap.exact else F @ self.coef_.T
        return np.asarray(Z, dtype=np.float64) + self.intercept_

    def _full_logits(self, Z):
        if Z.shape[1] == 1:
            return np.hstack([np.zeros_like(Z), Z])
        return Z

    def _validated_scores(self, X):
        check_is_fitted(self)
        X = validate_data(self, X, accept_sparse=["csr", "csc"],
                          dtype=[np.float64, np.float32], reset=False)
        return self._scores(X.astype(np.float64, copy=False))

    def decision_function(self, X):
        """Linear scores.

        Parameters
        ----------
        X : {array-like, sparse matrix} of shape (n_samples, n_features)

        Returns
        -------
        scores : ndarray of shape (n_samples,) or (n_samples, n_classes)
            For binary problems the score of ``classes_[1]`` (positive means
            ``classes_[1]``); otherwise one column per class.
        """
        Z = self._validated_scores(X)
        return Z[:, 0] if Z.shape[1] == 1 else Z

    def predict(self, X):
        """Predict class labels.

        Parameters
        ----------
        X : {array-like, sparse matrix} of shape (n_samples, n_features)

        Returns
        -------
        y_pred : ndarray of shape (n_samples,)
            Labels from ``classes_``.
        """
        Z = self._validated_scores(X)
        if Z.shape[1] == 1:
            return self.classes_[(Z[:, 0] > 0).astype(np.intp)]
        return self.classes_[np.argmax(Z, axis=1)]

    def predict_proba(self, X):
        """Class probabilities.

        Softmax of the scores for probability losses; the modified Huber link
        of SGDClassifier for margin losses (see Notes of the class).

        Parameters
        ----------
        X : {array-like, sparse matrix} of shape (n_samples, n_features)

        Returns
        -------
        proba : ndarray of shape (n_samples, n_classes)
            Rows sum to 1; columns follow ``classes_``.
        """
        Z = self._validated_scores(X)
        if self.loss_.kind == "probability":
            return np.exp(log_softmax(self._full_logits(Z)))
        prob = (np.clip(Z, -1.0, 1.0) + 1.0) / 2.0
        if Z.shape[1] == 1:
            return np.hstack([1.0 - prob, prob])
        # ties left by the clipping (several scores above 1, or all below -1)
        # are broken by a 1e-9 share of the softmax of the scores, so that the
        # argmax of the probabilities is the prediction
        prob = prob + _TIE_BREAK * np.exp(log_softmax(Z))
        return prob / prob.sum(axis=1, keepdims=True)

    def predict_log_proba(self, X):
        """Logarithm of :meth:`predict_proba` (``-inf`` where it is 0).

        Parameters
        ----------
        X : {array-like, sparse matrix} of shape (n_samples, n_features)

        Returns
        -------
        log_proba : ndarray of shape (n_samples, n_classes)
        """
        if getattr(self, "loss_", None) is not None and self.loss_.kind == "probability":
            return log_softmax(self._full_logits(self._validated_scores(X)))
        with np.errstate(divide="ignore"):
            return np.log(self.predict_proba(X))
