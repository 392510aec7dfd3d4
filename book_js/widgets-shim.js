// Loaded between require.js and the ipywidgets HTML manager (see _config.yml).
// 1. RequireJS resolves the manager's own files (its icon fonts) relative to the
//    page; point it at the folder this book serves them from.
// 2. The manager typesets widget labels with MathJax 2's MathJax.Hub.Queue; the
//    book loads MathJax 3, so provide that call on top of typesetPromise.
(function () {
  var me = document.currentScript && document.currentScript.src;
  if (window.require && me) {
    require.config({paths: {"@jupyter-widgets/html-manager/dist":
                            me.replace(/[^/]*$/, "") + "html-manager"}});
  }
  window.addEventListener("load", function () {
    var mj = window.MathJax;
    if (mj && !mj.Hub && mj.typesetPromise) {
      mj.Hub = {Queue: function (job) {
        var el = job && job[2];
        return mj.typesetPromise(el ? [el] : undefined);
      }};
    }
  });
})();
